"""Which still-image variants an asset needs, and for which networks: pure, from the
same data file as the verdicts. A network whose verdict is amber gets a variant that
meets its limits (format, bytes, pixels); networks that need the same variant share one
file. What a variant cannot mend (too small, an aspect ratio that needs padding) is left
to the verdict's reasons.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from medialib.platforms import rules as platform_rules
from medialib.platforms.verdicts import Facts, judge


@dataclass(frozen=True, slots=True)
class ImageSpec:
    """What one variant file must be."""

    format: str  # "jpeg", or "png" where transparency must survive
    max_width: int | None = None
    max_height: int | None = None
    max_pixels: int | None = None
    max_bytes: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def image_specs(facts: Facts, *, has_alpha: bool) -> dict[ImageSpec, list[str]]:
    """The variants a still image needs, each with the networks it is for."""
    if facts.kind != "image":
        return {}
    specs: dict[ImageSpec, list[str]] = {}
    for name, network in platform_rules.load().items():
        rules = platform_rules.section(network, "image")
        if rules is None or judge(name, network, facts).verdict != "amber":
            continue
        if not _aspect_fits(rules, facts):
            continue  # would need padding, which no variant here adds
        allowed = platform_rules.allowed_formats(rules, "formats")
        keep_alpha = has_alpha and (allowed is None or "png" in allowed)
        spec = ImageSpec(
            format="png" if keep_alpha else "jpeg",
            max_width=_int(rules.get("max_width")),
            max_height=_int(rules.get("max_height")),
            max_pixels=_int(rules.get("max_pixels")),
            max_bytes=_int(rules.get("max_file_bytes")),
        )
        specs.setdefault(spec, []).append(name)
    return specs


@dataclass(frozen=True, slots=True)
class VideoSpec:
    """What one MP4 (H.264/AAC) variant must be."""

    max_width: int | None = None
    max_height: int | None = None
    max_fps: float | None = None
    max_bytes: int | None = None

    @property
    def format(self) -> str:
        return "mp4"

    def as_dict(self) -> dict[str, Any]:
        return {"format": "mp4", **asdict(self)}


def video_specs(facts: Facts) -> dict[VideoSpec, list[str]]:
    """The MP4 variants a video needs (container, codec, frame rate, pixels or bytes),
    each with the networks it is for; too long or too short is not mended here."""
    if facts.kind != "video":
        return {}
    specs: dict[VideoSpec, list[str]] = {}
    for name, network in platform_rules.load().items():
        rules = platform_rules.section(network, "video")
        if rules is None or judge(name, network, facts).verdict != "amber":
            continue
        if not _aspect_fits(rules, facts):
            continue
        fps = rules.get("max_fps")
        spec = VideoSpec(
            max_width=_int(rules.get("max_width")),
            max_height=_int(rules.get("max_height")),
            max_fps=float(fps) if isinstance(fps, int | float) else None,
            max_bytes=_int(rules.get("max_file_bytes")),
        )
        specs.setdefault(spec, []).append(name)
    return specs


def _aspect_fits(rules: dict[str, Any], facts: Facts) -> bool:
    if not facts.width or not facts.height:
        return True
    ratio = facts.width / facts.height
    low, high = rules.get("aspect_ratio_min"), rules.get("aspect_ratio_max")
    too_narrow = isinstance(low, int | float) and ratio < low
    too_wide = isinstance(high, int | float) and ratio > high
    return not (too_narrow or too_wide)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
