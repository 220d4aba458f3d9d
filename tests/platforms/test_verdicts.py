"""Verdicts from the platforms data file, on facts alone."""

from __future__ import annotations

from pathlib import Path

import yaml

from medialib.platforms import rules
from medialib.platforms.verdicts import Facts, judge_all

SHARED = Path(__file__).resolve().parents[3] / "shared" / "platforms.yaml"


def _by_platform(facts: Facts) -> dict[str, tuple[str, list[str]]]:
    return {v.platform: (v.verdict, v.reasons) for v in judge_all(facts)}


def test_the_packaged_data_file_is_the_shared_one_when_present() -> None:
    if SHARED.exists():  # beside the repository in CI and on developer machines
        assert yaml.safe_load(SHARED.read_text()) == yaml.safe_load(
            (Path(rules.__file__).parent / "platforms.yaml").read_text()
        )
    assert len(rules.load()) == 11


def test_a_small_jpeg_is_taken_everywhere_that_takes_images() -> None:
    verdicts = _by_platform(
        Facts(kind="image", content_type="image/jpeg", size=300_000, width=1080, height=1080)
    )
    assert verdicts["x"] == ("green", [])
    assert verdicts["instagram"][0] == "green"
    assert verdicts["youtube"][0] == "red"  # no image posts there


def test_a_large_webp_needs_variants_where_limits_bite() -> None:
    verdicts = _by_platform(
        Facts(kind="image", content_type="image/webp", size=6_000_000, width=4000, height=3000)
    )
    colour, reasons = verdicts["x"]
    assert colour == "amber" and any("5.0 MB limit" in r for r in reasons)
    colour, reasons = verdicts["instagram"]
    assert colour == "amber" and any("JPEG variant" in r for r in reasons)
    assert verdicts["bluesky"][0] == "amber"  # 2 MB cap
    assert verdicts["mastodon"][0] == "green"  # takes WebP up to 16 MiB


def test_a_tall_image_is_outside_instagrams_aspect_range() -> None:
    verdicts = _by_platform(
        Facts(kind="image", content_type="image/jpeg", size=100_000, width=500, height=1500)
    )
    colour, reasons = verdicts["instagram"]
    assert colour == "amber" and any("aspect ratio 0.33" in r for r in reasons)


def test_video_length_limits_are_red() -> None:
    three_minutes = Facts(
        kind="video",
        content_type="video/mp4",
        size=50_000_000,
        width=1280,
        height=720,
        duration_ms=180_000,
        container="mp4",
        codec="h264",
        fps=30,
    )
    verdicts = _by_platform(three_minutes)
    colour, reasons = verdicts["x"]
    assert colour == "red" and any("at most 140 s" in r for r in reasons)
    assert verdicts["youtube"][0] == "green"
    short = _by_platform(
        Facts(
            kind="video",
            content_type="video/mp4",
            size=1000,
            duration_ms=1000,
            container="mp4",
            codec="h264",
        )
    )
    assert short["instagram"][0] == "red"  # at least 3 s


def test_webm_and_vp9_need_an_mp4_variant() -> None:
    verdicts = _by_platform(
        Facts(
            kind="video",
            content_type="video/webm",
            size=1_000_000,
            width=640,
            height=360,
            duration_ms=10_000,
            container="webm",
            codec="vp9",
        )
    )
    assert verdicts["x"][0] == "amber" and verdicts["mastodon"][0] == "green"


def test_documents_are_for_linkedin_and_telegram_only() -> None:
    verdicts = _by_platform(
        Facts(kind="document", content_type="application/pdf", size=2_000_000, pages=12)
    )
    assert verdicts["linkedin"][0] == "green" and verdicts["telegram"][0] == "green"
    assert verdicts["x"] == ("red", ["does not take documents"])
    too_long = _by_platform(
        Facts(kind="document", content_type="application/pdf", size=1, pages=301)
    )
    assert too_long["linkedin"][0] == "red"


def test_audio_is_taken_nowhere_as_a_post() -> None:
    assert {
        v for v, _ in _by_platform(Facts(kind="audio", content_type="audio/mpeg", size=1)).values()
    } == {"red"}
