"""A variant is made for the form a media goes out in by itself; a post in another form
of the same network may ask more of it. The plan's check of a variant against the post's
form, on the typed rules (pure: a media row that is never stored)."""

from __future__ import annotations

from dataclasses import replace

from medialib.media.models import Media
from medialib.media.records import Variant
from medialib.platforms.rules import KindRule, catalog
from medialib.variants.choice import _variant_misfit


def _clip() -> tuple[Media, Variant]:
    media = Media(
        id="med_1",
        kind="video",
        status="ready",
        content_type="video/webm",
        storage_key="k",
        size=40_000_000,
        width=1080,
        height=1920,
        duration_ms=20_000,
        media_metadata={"codec": "vp9", "fps": 30, "audio_codec": "opus", "audio_channels": 2},
    )
    variant = Variant(
        key="k/variant.mp4",
        platforms=("instagram",),
        content_type="video/mp4",
        width=1080,
        height=1920,
        size=12_000_000,
        fps=30,
        codec="h264",
        duration_ms=20_000,
        bitrate=4_800_000,
        method="encode",
        spec={},
    )
    return media, variant


def test_a_variant_that_meets_the_posts_form_goes_out() -> None:
    instagram = catalog().networks["instagram"]
    carousel = next(f for f in instagram.forms if f.id == "carousel")
    media, variant = _clip()
    assert _variant_misfit(instagram, carousel, media, variant, "video") is None


def test_a_variant_made_for_another_form_is_refused_with_the_rule_it_breaks() -> None:
    instagram = catalog().networks["instagram"]
    carousel = next(f for f in instagram.forms if f.id == "carousel")
    rules = carousel.media["video"].rules
    shorter = replace(carousel, media={"video": KindRule(replace(rules, max_duration_s=15))})
    media, variant = _clip()
    misfit = _variant_misfit(instagram, shorter, media, variant, "video")
    assert misfit is not None
    assert (misfit.code, misfit.form, misfit.limit) == ("variant_does_not_fit", "carousel", 15)
    assert misfit.message.startswith("Its Instagram variant does not fit a carousel:")
    # A still variant of an animation is judged by another kind's rules: not this check.
    assert _variant_misfit(instagram, shorter, media, variant, "gif") is None
