"""Per-network image variants, made ahead of time once an image is ready, checked by
decoding what is served."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import av
import httpx
import pytest
import pyvips

from tests import mediafiles
from tests.helpers import upload_file, wait_settled, wait_variants
from tests.mediacheck import image_breaks, rules_for, video_breaks


def _variants(api: httpx.Client, media_id: str, timeout: float = 60) -> dict[str, Any]:
    return wait_variants(api, media_id, timeout=timeout)


@pytest.fixture(scope="module")
def big_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3000x2000 of noise: about 18 MB as PNG, over most networks' byte caps."""
    path = tmp_path_factory.mktemp("variants") / "poster.png"
    noise = pyvips.Image.gaussnoise(3000, 2000, mean=128, sigma=50)
    rgb = noise.bandjoin([noise.rot180(), noise.fliphor()]).cast("uchar")
    rgb.copy(interpretation="srgb").pngsave(str(path), compression=1)
    return path


@pytest.fixture(scope="module")
def clear_webp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("variants") / "logo.webp"
    colour = (pyvips.Image.black(800, 800, bands=3) + [20, 120, 200]).cast("uchar")  # noqa: RUF005
    alpha = (pyvips.Image.black(800, 800) + 128).cast("uchar")
    colour.bandjoin(alpha).copy(interpretation="srgb").webpsave(str(path), lossless=True)
    return path


def _decoded(url: str) -> tuple[bytes, Any]:
    answer = httpx.get(url, timeout=30)
    assert answer.status_code == 200
    return answer.content, pyvips.Image.new_from_buffer(answer.content, "")


def test_a_big_png_gets_variants_that_meet_each_networks_limits(
    api: httpx.Client, big_png: Path
) -> None:
    media = upload_file(api, big_png)
    assert wait_settled(api, media["id"])["status"] == "ready"
    answer = _variants(api, media["id"])
    assert answer["variants_status"] == "ready"
    verdicts = {p["platform"]: p for p in answer["platforms"]}
    covered: set[str] = set()
    for variant in answer["variants"]:
        data, image = _decoded(variant["url"])
        assert len(data) == variant["size"] and variant["content_type"] == "image/jpeg"
        assert (image.width, image.height) == (variant["width"], variant["height"])
        assert image.get_typeof("exif-data") == 0  # rebuilt from pixels: no metadata
        for name in variant["platforms"]:
            rules = rules_for(name, verdicts[name]["form"], "image")
            assert image_breaks(rules, data) == [], name
            if rules.min_aspect is None and rules.max_aspect is None:
                assert abs(image.width / image.height - 1.5) < 0.01  # the shape is kept
            covered.add(name)
    verdicts = {p["platform"]: p for p in answer["platforms"]}
    amber = {name for name, p in verdicts.items() if p["verdict"] == "amber"}
    assert amber and amber == covered
    assert {"x", "bluesky", "threads"} <= covered
    assert verdicts["bluesky"]["variant"]["size"] <= 2_000_000
    assert verdicts["threads"]["variant"]["width"] <= 1440
    assert verdicts["pinterest"]["verdict"] == "green" and verdicts["pinterest"]["variant"] is None
    # One file per distinct limit, not per network.
    assert len(answer["variants"]) < len(covered)

    # The same bytes again: the processing and its variants are reused, not redone.
    again = upload_file(api, big_png, filename="poster-again.png")
    assert again["duplicate_of"] == media["id"]
    reused = _variants(api, again["id"])
    assert sorted(v["size"] for v in reused["variants"]) == sorted(
        v["size"] for v in answer["variants"]
    )
    assert {v["url"] for v in reused["variants"]}.isdisjoint(v["url"] for v in answer["variants"])


def test_transparency_survives_where_png_is_taken(api: httpx.Client, clear_webp: Path) -> None:
    media = upload_file(api, clear_webp)
    assert wait_settled(api, media["id"])["status"] == "ready"
    verdicts = {p["platform"]: p for p in _variants(api, media["id"])["platforms"]}
    threads = verdicts["threads"]["variant"]
    assert threads["content_type"] == "image/png"
    _, image = _decoded(threads["url"])
    assert image.hasalpha() and (image.width, image.height) == (800, 800)
    assert verdicts["x"]["verdict"] == "green" and verdicts["x"]["variant"] is None


def test_small_images_and_other_kinds_need_none(api: httpx.Client, files: Path) -> None:
    photo = upload_file(api, files / "photo.jpg")
    wait_settled(api, photo["id"])
    answer = _variants(api, photo["id"])
    assert answer["variants_status"] == "ready" and answer["variants"] == []
    tone = upload_file(api, files / "tone.m4a")
    wait_settled(api, tone["id"])
    assert _variants(api, tone["id"])["variants_status"] == "none"


def test_a_webm_video_gets_an_mp4_variant_where_networks_need_one(
    api: httpx.Client, tmp_path: Path
) -> None:
    webm = mediafiles.ffmpeg_clip(  # a moving pattern: big enough for LinkedIn's 75 KB floor
        tmp_path / "teaser.webm",
        "-c:v",
        "libvpx-vp9",
        "-b:v",
        "400k",
        "-c:a",
        "libopus",
        seconds=4.0,
        size="640x480",
        rate=50,
    )
    media = upload_file(api, webm)
    assert wait_settled(api, media["id"], timeout=60)["status"] == "ready"
    answer = _variants(api, media["id"], timeout=120)
    assert answer["variants_status"] == "ready"
    verdicts = {p["platform"]: p for p in answer["platforms"]}
    amber = {name for name, p in verdicts.items() if p["verdict"] == "amber"}
    covered = {name for v in answer["variants"] for name in v["platforms"]}
    assert amber == covered and {"x", "bluesky", "linkedin"} <= covered
    assert verdicts["mastodon"]["verdict"] == "green" and verdicts["mastodon"]["variant"] is None
    for variant in answer["variants"]:
        served = httpx.get(variant["url"], timeout=30)
        assert served.status_code == 200 and len(served.content) == variant["size"]
        made = tmp_path / f"{variant['size']}.mp4"
        made.write_bytes(served.content)
        with av.open(str(made)) as clip:
            video = clip.streams.video[0]
            assert (video.width, video.height) == (variant["width"], variant["height"])
            assert abs(float(clip.duration or 0) / 1e6 - 4.0) < 0.3
            assert [a.codec_context.name for a in clip.streams.audio] == ["aac"]
        for name in variant["platforms"]:
            assert video_breaks(rules_for(name, verdicts[name]["form"], "video"), made) == []
    assert verdicts["linkedin"]["variant"]["fps"] <= 30  # LinkedIn takes at most 30 fps
