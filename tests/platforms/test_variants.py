"""Which variants an image needs, from the data file (pure)."""

from __future__ import annotations

from medialib.platforms.variants import ImageSpec, image_specs
from medialib.platforms.verdicts import Facts


def test_a_small_jpeg_needs_no_variant() -> None:
    facts = Facts(kind="image", content_type="image/jpeg", size=200_000, width=1200, height=800)
    assert image_specs(facts, has_alpha=False) == {}


def test_a_big_png_gets_one_variant_per_distinct_limit() -> None:
    facts = Facts(kind="image", content_type="image/png", size=18_000_000, width=3000, height=2000)
    specs = image_specs(facts, has_alpha=False)
    by_platform = {name: spec for spec, names in specs.items() for name in names}
    assert by_platform["bluesky"] == ImageSpec(
        format="jpeg", max_width=4000, max_height=4000, max_bytes=2_000_000
    )
    assert by_platform["x"].max_bytes == 5_000_000
    assert by_platform["threads"].max_width == 1440
    assert by_platform["tiktok"].format == "jpeg"  # TikTok takes JPEG and WebP, not PNG
    assert "linkedin" not in by_platform  # a PNG of this size is fine there
    assert all(spec.format == "jpeg" for spec in specs)


def test_transparency_is_kept_where_png_is_taken() -> None:
    facts = Facts(kind="image", content_type="image/webp", size=300_000, width=800, height=800)
    specs = image_specs(facts, has_alpha=True)
    by_platform = {name: spec for spec, names in specs.items() for name in names}
    assert by_platform["threads"].format == "png"
    assert by_platform["linkedin"].format == "png"
    assert "tiktok" not in by_platform and "x" not in by_platform  # both take WebP


def test_what_a_variant_cannot_mend_gets_none() -> None:
    tiny = Facts(kind="image", content_type="image/webp", size=5_000, width=100, height=100)
    assert "threads" not in {
        n for names in image_specs(tiny, has_alpha=False).values() for n in names
    }
    gif = Facts(kind="gif", content_type="image/gif", size=60_000_000, width=500, height=500)
    assert image_specs(gif, has_alpha=False) == {}
