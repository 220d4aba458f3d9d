"""The `medialib` command line, run as a real process."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from medialib.app import build_state
from medialib.config import Settings
from medialib.db import make_engine, make_session_factory, session_scope
from medialib.media.intake import MediaIntake
from medialib.media.models import Media
from medialib.media.schemas import UploadRequest
from medialib.workspaces.keys import get_or_create_workspace
from tests.conftest import RunningServer
from tests.processes import MEDIALIB, ServeProcess, env_for


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MEDIALIB, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_keys_create_prints_a_working_key_as_its_last_line(server: RunningServer) -> None:
    env = env_for(server.settings.resolved_data_dir, server.settings.resolved_database_url)
    result = _run(env, "keys", "create", "--workspace", "cli-team")
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip().splitlines()[-1]
    assert key.startswith("mlk_")
    listed = httpx.get(f"{server.base_url}/v1/media", headers={"Authorization": f"Bearer {key}"})
    assert listed.status_code == 200
    revoked = _run(env, "keys", "revoke", key)
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    after = httpx.get(f"{server.base_url}/v1/media", headers={"Authorization": f"Bearer {key}"})
    assert after.status_code == 401


def test_upload_command_uploads_files_in_parallel_and_prints_ids(
    server: RunningServer, api_key: str, files: Path
) -> None:
    env = env_for(server.settings.resolved_data_dir, server.settings.resolved_database_url)
    env.update(MEDIALIB_API_KEY=api_key, MEDIALIB_URL=server.base_url)
    result = _run(
        env,
        "upload",
        str(files / "photo.jpg"),
        str(files / "clip.mp4"),
        "--tag",
        "cli",
        "--description",
        "From CLI",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    ids = [line.split("\t")[1] for line in result.stdout.splitlines() if "\tmed_" in line]
    assert len(ids) == 2
    with httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {api_key}"}
    ) as api:
        for media_id in ids:
            media = api.get(f"/v1/media/{media_id}").json()
            assert media["tags"] == ["cli"] and media["description"] == "From CLI"


def test_upload_command_reports_refusals_and_exits_nonzero(
    server: RunningServer, api_key: str, files: Path
) -> None:
    env = env_for(server.settings.resolved_data_dir, server.settings.resolved_database_url)
    env.update(MEDIALIB_API_KEY=api_key, MEDIALIB_URL=server.base_url)
    result = _run(env, "upload", str(files / "page.html"))
    assert result.returncode == 1
    missing = _run(env, "upload", str(files / "nope.jpg"))
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_db_upgrade_and_gc_reclaim_what_nothing_owns(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'm.db'}"
    env = env_for(tmp_path, database)
    upgrade = _run(env, "db", "upgrade")
    assert upgrade.returncode == 0 and "up to date" in upgrade.stdout
    pending_key = _upload_asked_for_and_never_sent(tmp_path, database)
    objects = tmp_path / "objects"
    stray = objects / ".tmp" / "upload-killed"
    stray.write_bytes(b"what a killed upload wrote")
    orphan = objects / "ws_gone" / "med_gone" / "t0" / "original"  # its row never committed
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"bytes nobody owns")
    partial = objects / ".partial" / "upl_01ORPHANPARTIAL00000000000"
    partial.write_bytes(b"half an upload whose row never was")

    now = json.loads(_run(env, "gc", "--json").stdout)
    assert set(now.values()) == {0}  # everything is still young: in progress, perhaps

    two_days_on = {**env, "MEDIALIB_CLOCK_OFFSET_SECONDS": str(2 * 24 * 3600)}
    dry = json.loads(_run(two_days_on, "gc", "--dry-run", "--json").stdout)
    assert dry["abandoned_uploads"] == 1 and dry["temporary_files"] == 1
    assert dry["orphan_objects"] == 1 and dry["orphan_partials"] == 1
    assert stray.exists() and orphan.exists() and partial.exists()  # a dry run touches nothing
    assert (objects / pending_key).exists()

    later = _run(two_days_on, "gc")
    assert later.returncode == 0, later.stderr
    report = dict(line.rsplit(None, 1) for line in later.stdout.splitlines())
    assert report["abandoned uploads"] == "1" and report["temporary files"] == "1"
    assert report["orphan objects"] == "1" and report["orphan partials"] == "1"
    assert not stray.exists() and not orphan.exists() and not partial.exists()
    with session_scope(make_session_factory(make_engine(database))) as session:
        assert session.scalar(select(func.count()).select_from(Media)) == 0
    assert not (objects / pending_key).exists()
    again = json.loads(_run(two_days_on, "gc", "--json").stdout)
    assert set(again.values()) == {0}


def _upload_asked_for_and_never_sent(data_dir: Path, database: str) -> str:
    """An upload request and bytes PUT, never confirmed: the pending media's key."""
    state = build_state(Settings(data_dir=data_dir, database_url=database), run_workers=False)
    try:
        with session_scope(state.session_factory) as session:
            workspace = get_or_create_workspace(session, "gc")
            intake = MediaIntake(session, store=state.store, settings=state.settings)
            upload = intake.request_upload(workspace, UploadRequest(filename="a.jpg", size=3))
            key = upload.media.storage_key
        writer = state.store.open_writer(key, content_type="image/jpeg", max_bytes=3)
        writer.write(b"abc")
        writer.commit()
        return key
    finally:
        state.engine.dispose()


def test_a_newcomer_uploads_to_serve_on_any_port_and_errors_are_one_line(
    tmp_path: Path, files: Path
) -> None:
    env = env_for(tmp_path, f"sqlite:///{tmp_path / 'n.db'}")
    server = ServeProcess(env)  # on a free port, not 8000
    try:
        # No URL, no key given: both are found from what `serve` left in the data dir.
        found = _run(env, "upload", str(files / "photo.jpg"))
        assert found.returncode == 0, found.stderr
        assert "\tmed_" in found.stdout and "\tready" in found.stdout
        taken = _run(env, "serve", "--port", str(server.port))
        assert taken.returncode == 1
        assert taken.stderr.strip().count("\n") == 0 and "--port" in taken.stderr
        assert "Open http" not in taken.stdout
    finally:
        server.stop()
    gone = _run(
        {**env, "MEDIALIB_URL": f"http://127.0.0.1:{server.port}"},
        "upload",
        str(files / "photo.jpg"),
    )
    assert gone.returncode == 2 and "cannot reach medialib" in gone.stderr
    assert "Traceback" not in gone.stderr and gone.stderr.strip().count("\n") == 0


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("https://a.example", "MEDIALIB_CORS_ORIGINS is not valid JSON"),
        ('["*"]', "MEDIALIB_CORS_ORIGINS: "),
        ('["https://a.example/path"]', "MEDIALIB_CORS_ORIGINS: "),
    ],
)
def test_a_bad_setting_is_one_line_naming_its_variable(
    tmp_path: Path, value: str, said: str
) -> None:
    env = env_for(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", MEDIALIB_CORS_ORIGINS=value)
    result = _run(env, "serve", "--port", "9")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("medialib: ") and said in lines[0], lines
    assert "Traceback" not in result.stderr + result.stdout


def test_storage_init_makes_the_local_folder_once(tmp_path: Path) -> None:
    """The S3 bucket and its CORS rule: tests/test_deploy_guide.py."""
    env = env_for(tmp_path / "data", f"sqlite:///{tmp_path / 'm.db'}")
    env["MEDIALIB_STORAGE_URL"] = f"file://{tmp_path / 'store'}"
    first = _run(env, "storage", "init")
    assert first.returncode == 0 and "made" in first.stdout, first.stderr
    assert (tmp_path / "store").is_dir()
    again = _run(env, "storage", "init")
    assert again.returncode == 0 and "was there" in again.stdout
