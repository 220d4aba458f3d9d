"""The key cache's stamp: a change written by another process on this machine empties
every cache at once (read through a shared map, no system call per lookup)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from medialib.workspaces.key_cache import STAMP_FILE, KeyCache, touch_stamp
from medialib.workspaces.models import Workspace


def _workspace() -> Workspace:
    return Workspace(id="ws_1", name="team")


def _touch_from_another_process(data_dir: Path) -> None:
    code = "import sys; from pathlib import Path; from medialib.workspaces.key_cache import"
    code += " touch_stamp; touch_stamp(Path(sys.argv[1]))"
    subprocess.run([sys.executable, "-c", code, str(data_dir)], check=True, timeout=60)


def test_a_stamp_written_by_another_process_empties_every_cache_at_once(tmp_path: Path) -> None:
    first = KeyCache(stamp=tmp_path / STAMP_FILE)
    second = KeyCache(stamp=tmp_path / STAMP_FILE)
    for cache in (first, second):
        cache.put("mlk_one", _workspace())
        assert cache.get("mlk_one") is not None
    _touch_from_another_process(tmp_path)
    assert first.get("mlk_one") is None
    assert second.get("mlk_one") is None
    first.put("mlk_one", _workspace())
    assert first.get("mlk_one") is not None  # the change is seen once, not for ever
    touch_stamp(tmp_path)
    assert first.get("mlk_one") is None


def test_an_older_empty_stamp_file_is_taken_over(tmp_path: Path) -> None:
    (tmp_path / STAMP_FILE).touch()  # what earlier versions left: an empty file, touched
    cache = KeyCache(stamp=tmp_path / STAMP_FILE)
    cache.put("mlk_one", _workspace())
    assert cache.get("mlk_one") is not None
    _touch_from_another_process(tmp_path)
    assert cache.get("mlk_one") is None


def test_a_stamp_that_cannot_be_made_leaves_the_time_to_live(tmp_path: Path) -> None:
    cache = KeyCache(stamp=tmp_path / "no-such-folder" / STAMP_FILE, ttl=0.0)
    cache.put("mlk_one", _workspace())
    assert cache.get("mlk_one") is None  # expired at once: the time-to-live still ends entries
    kept = KeyCache(stamp=tmp_path / "no-such-folder" / STAMP_FILE, ttl=60.0)
    kept.put("mlk_one", _workspace())
    assert kept.get("mlk_one") is not None
