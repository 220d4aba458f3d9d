"""Which variant files a media needs, from its verdicts (pure)."""

from __future__ import annotations

from dataclasses import replace

from medialib.platforms.reasons import Facts
from medialib.platforms.variants import Aspect, ImageSpec, VideoSpec, variant_specs


def _by_platform(specs: dict) -> dict:  # type: ignore[type-arg]
    return {name: spec for spec, names in specs.items() for name in names}


def test_a_small_jpeg_needs_no_variant() -> None:
    facts = Facts(kind="image", format="jpeg", size=200_000, width=1200, height=800)
    assert variant_specs(facts) == {}


def test_a_big_png_gets_one_variant_per_distinct_need() -> None:
    facts = Facts(kind="image", format="png", size=18_000_000, width=3000, height=2000)
    by_platform = _by_platform(variant_specs(facts))
    assert by_platform["bluesky"] == ImageSpec(
        format="jpeg", max_width=4000, max_height=4000, max_bytes=2_000_000
    )
    assert by_platform["x"].max_bytes == 5_000_000
    assert by_platform["threads"].max_width == 1440
    assert by_platform["tiktok"].format == "jpeg"  # TikTok takes JPEG and WebP, not PNG
    assert "linkedin" not in by_platform  # a PNG of this size is fine there
    assert by_platform["telegram"].max_bytes == 5_000_000  # its by-URL cap


def test_transparency_is_kept_where_png_is_taken() -> None:
    facts = Facts(kind="image", format="webp", size=300_000, width=800, height=800)
    by_platform = _by_platform(variant_specs(facts, has_alpha=True))
    assert by_platform["threads"].format == "png" and by_platform["linkedin"].format == "png"
    assert "tiktok" not in by_platform and "x" not in by_platform  # both take WebP


def test_an_aspect_outside_the_range_is_fitted_the_way_the_media_asks() -> None:
    portrait = Facts(kind="image", format="jpeg", size=500_000, width=1500, height=2000)
    cropped = _by_platform(variant_specs(portrait))["instagram"]
    assert cropped.aspect == Aspect(low=0.8, high=1.91, fit="crop")
    padded = _by_platform(variant_specs(replace(portrait, fit="pad")))["instagram"]
    assert padded.aspect is not None and padded.aspect.fit == "pad"


def test_videos_are_remuxed_when_only_the_packaging_is_wrong() -> None:
    clip = Facts(
        kind="video",
        size=5_000_000,
        width=1080,
        height=1920,
        duration_ms=20_000,
        container="mov",
        codec="h264",
        fps=30,
        pix_fmt="yuv420p",
        moov_first=False,
        edit_lists=True,
        has_audio=True,
        audio_codec="aac",
        audio_profile="LC",
        audio_channels=2,
        audio_sample_rate=48_000,
    )
    by_platform = _by_platform(variant_specs(clip))
    assert by_platform["threads"].method == "remux"
    slow = _by_platform(variant_specs(replace(clip, fps=15)))
    for network in ("threads", "instagram"):  # 15 fps is below both networks' minimum
        assert slow[network].method == "encode" and slow[network].min_fps == 23
    assert slow["threads"].max_bytes != slow["instagram"].max_bytes  # each its own cap


def test_animations_become_mp4_or_a_still_where_networks_want_that() -> None:
    gif = Facts(
        kind="gif", format="gif", size=3_000_000, width=480, height=480, frames=40, duration_ms=4000
    )
    by_platform = _by_platform(variant_specs(gif))
    assert isinstance(by_platform["bluesky"], VideoSpec) and not by_platform["bluesky"].audio
    assert isinstance(by_platform["pinterest"], VideoSpec)  # a video Pin keeps the motion
    # Longer than any video Pin may be: its image Pin, the first frame (and it says so).
    endless = _by_platform(variant_specs(replace(gif, duration_ms=4 * 3600 * 1000)))
    assert isinstance(endless["pinterest"], ImageSpec) and endless["pinterest"].format == "jpeg"
    assert "x" not in by_platform  # takes the GIF as it is
    webp = _by_platform(variant_specs(replace(gif, format="webp")))
    assert webp["x"].format == "gif"  # an animated WebP goes to X as an animated GIF
    long_gif = _by_platform(variant_specs(replace(gif, frames=600)))
    assert isinstance(long_gif["linkedin"], ImageSpec) and long_gif["linkedin"].max_frames == 250
    assert "x" not in long_gif  # X's frame cap is a recommendation
