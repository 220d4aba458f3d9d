"""The data files read into typed rules: every network and form, values as the data file
gives them, a bad value refused with its name, and a version that follows the files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from medialib.platforms import rules
from medialib.platforms.rule_values import RulesError
from medialib.platforms.rules import load_catalog

PACKAGED = Path(rules.__file__).parent / "platforms.yaml"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "platforms.yaml"
DATA: dict[str, Any] = yaml.safe_load(PACKAGED.read_text())


def test_the_packaged_data_file_is_the_shared_one_when_present() -> None:
    if SHARED.exists():  # beside the repository in CI and on developer machines
        assert yaml.safe_load(SHARED.read_text()) == DATA


def test_every_network_in_the_data_file_is_read_with_its_forms() -> None:
    catalog = rules.catalog()
    assert set(catalog.networks) == {name for name in DATA if not name.startswith("_")}
    for network in catalog:
        assert network.forms and network.name
        for form in network.forms:
            assert form.media and (form.max_items is None or form.max_items >= form.min_items)


def _section(network: str, path: str) -> dict[str, Any]:
    found: Any = DATA[network]
    for part in path.split("."):
        found = found[part]
    assert isinstance(found, dict)
    return found


@pytest.mark.parametrize(
    "network, form, kind, section",
    [
        ("x", "post", "image", "image"),
        ("bluesky", "images", "image", "image"),
        ("mastodon", "post", "video", "video"),
        ("threads", "single", "video", "video"),
        ("instagram", "reel", "video", "reel"),
        ("instagram", "story", "video", "story.video"),
        ("instagram", "feed", "image", "feed_image"),
        ("facebook", "reel", "video", "reel"),
        ("linkedin", "video", "video", "video"),
        ("linkedin", "document", "document", "document"),
        ("tiktok", "video", "video", "video"),
        ("youtube", "video", "video", "video"),
        ("pinterest", "video", "video", "video"),
        ("telegram", "single", "video", "video"),
    ],
)
def test_numbers_are_the_data_files_own(network: str, form: str, kind: str, section: str) -> None:
    raw = _section(network, section)
    chosen = next(f for f in rules.catalog().networks[network].forms if f.id == form)
    typed = chosen.media[kind].rules
    pairs = {
        "max_width": "max_width",
        "min_width": "min_width",
        "max_height": "max_height",
        "max_duration_s": "max_duration_s",
        "max_fps": "max_fps",
        "min_fps": "min_fps",
        "max_pixels": "max_pixels",
        "max_pages": "max_pages",
        "max_video_bitrate": "max_video_bitrate_bps",
        "min_bytes": "min_file_bytes",
    }
    for attribute, key in pairs.items():
        if raw.get(key) is not None:
            assert getattr(typed, attribute) == raw[key], (attribute, key)
    cap = (
        min(v for v in (raw.get("max_file_bytes"), raw.get("max_file_bytes_via_url")) if v)
        if (raw.get("max_file_bytes") or raw.get("max_file_bytes_via_url"))
        else None
    )
    assert typed.max_bytes == cap


def test_post_forms_carry_the_data_files_counts() -> None:
    networks = rules.catalog().networks
    carousel = next(f for f in networks["instagram"].forms if f.id == "carousel")
    assert (carousel.min_items, carousel.max_items, carousel.mix) == (2, 10, True)
    album = next(f for f in networks["telegram"].forms if f.id == "album")
    assert (album.min_items, album.max_items) == (2, 10)
    assert album.caption_max_chars == DATA["telegram"]["post"]["caption_max_chars"]
    linkedin_doc = next(f for f in networks["linkedin"].forms if f.id == "document")
    assert linkedin_doc.title_required
    x_post = networks["x"].forms[0]
    assert x_post.alone == {"gif", "video"} and x_post.max_items == 4


def _with(tmp_path: Path, network: str, path: str, value: Any) -> Path:
    data = yaml.safe_load(PACKAGED.read_text())
    section = data[network]
    *parents, key = path.split(".")
    for part in parents:
        section = section[part]
    section[key] = value
    changed = tmp_path / "platforms.yaml"
    changed.write_text(yaml.safe_dump(data))
    return changed


@pytest.mark.parametrize(
    "network, path, value, named",
    [
        ("threads", "video.max_fps", "sixty", "threads.video.max_fps"),
        ("x", "image.max_file_bytes", -5, "x.image.max_file_bytes"),
        ("instagram", "post.carousel.max_items", True, "instagram.carousel.max_items"),
        ("linkedin", "video.containers", "mp4", "linkedin.video.containers"),
    ],
)
def test_a_bad_value_stops_start_up_naming_it(
    tmp_path: Path, network: str, path: str, value: Any, named: str
) -> None:
    with pytest.raises(RulesError, match=named.replace(".", r"\.")):
        load_catalog(_with(tmp_path, network, path, value))


def test_a_missing_network_is_named(tmp_path: Path) -> None:
    data = yaml.safe_load(PACKAGED.read_text())
    del data["tiktok"]
    changed = tmp_path / "platforms.yaml"
    changed.write_text(yaml.safe_dump(data))
    with pytest.raises(RulesError, match="tiktok"):
        load_catalog(changed)


def test_the_version_follows_the_data_file(tmp_path: Path) -> None:
    same = tmp_path / "same.yaml"
    same.write_text(PACKAGED.read_text())
    assert load_catalog(same).version == rules.catalog().version
    changed = load_catalog(_with(tmp_path, "bluesky", "image.max_file_bytes", 1_000_000))
    assert changed.version != rules.catalog().version
    images = next(f for f in changed.networks["bluesky"].forms if f.id == "images")
    assert images.media["image"].rules.max_bytes == 1_000_000
