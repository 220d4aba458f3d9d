"""Which variant files a media needs, and for which networks: pure, from the verdicts. A
network whose verdict is amber gets a file made to the rules of the form it was judged in:
a still image (JPEG, or PNG where transparency must survive and is taken), an animated
GIF, or an MP4 (remuxed when only the packaging is wrong, encoded otherwise). Networks
whose needs are the same share one file; a green network is sent the original, a red one
nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from medialib.platforms.reasons import Facts, Verdict
from medialib.platforms.rules import Catalog, MediaRules, catalog
from medialib.platforms.verdicts import judge, loops_to_reach

Fit = Literal["crop", "pad"]


@dataclass(frozen=True, slots=True)
class Aspect:
    """The aspect-ratio range a variant must fall in, and how to get there."""

    low: float | None
    high: float | None
    fit: Fit

    def target(self, width: int, height: int) -> float | None:
        """The nearest ratio inside the range, or None when the picture is inside it."""
        ratio = width / height
        if self.low is not None and ratio < self.low:
            return self.low
        if self.high is not None and ratio > self.high:
            return self.high
        return None


@dataclass(frozen=True, slots=True)
class ImageSpec:
    """What one image variant file must be (a still, or an animated GIF)."""

    format: str  # "jpeg", "png" where transparency must survive, or "gif" (animated)
    max_width: int | None = None
    max_height: int | None = None
    max_pixels: int | None = None
    max_width_plus_height: int | None = None
    max_bytes: int | None = None
    aspect: Aspect | None = None
    upscale_to_width: int | None = None  # only where the network upscales anyway
    max_frames: int | None = None  # an animated GIF's
    max_pixels_times_frames: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class VideoSpec:
    """What one MP4 (H.264/AAC) variant must be."""

    method: Literal["remux", "encode"] = "encode"
    max_width: int | None = None
    max_height: int | None = None
    max_pixels: int | None = None
    min_fps: float | None = None
    max_fps: float | None = None
    max_bytes: int | None = None
    max_video_bitrate: int | None = None
    aspect: Aspect | None = None
    audio: bool = True
    plays: int = 1  # an animation looped to a network's minimum duration

    @property
    def format(self) -> str:
        return "mp4"

    def as_dict(self) -> dict[str, Any]:
        return {"format": "mp4", **asdict(self)}


Spec = ImageSpec | VideoSpec


def variant_specs(
    facts: Facts, *, has_alpha: bool = False, rules: Catalog | None = None
) -> dict[Spec, list[str]]:
    """The variant files a media needs, each with the networks it is for."""
    specs: dict[Spec, list[str]] = {}
    for network in rules or catalog():
        verdict = judge(network, facts)
        if verdict.verdict != "amber":
            continue
        form = next(f for f in network.forms if f.id == verdict.form)
        spec = _spec_for(verdict, form.media[facts.kind].rules, facts, has_alpha=has_alpha)
        specs.setdefault(spec, []).append(network.id)
    return specs


def _spec_for(verdict: Verdict, rules: MediaRules, facts: Facts, *, has_alpha: bool) -> Spec:
    aspect = _aspect(verdict, rules, facts)
    if facts.kind == "video" or verdict.send_as == "video":
        remux_only = verdict.fixes <= {"remux", "scaled_by_network"}
        return VideoSpec(
            method="remux" if remux_only else "encode",
            max_width=None if "max_width" in rules.soft else rules.max_width,
            max_height=None if "max_height" in rules.soft else rules.max_height,
            max_pixels=rules.max_pixels,
            min_fps=rules.min_fps,
            max_fps=rules.max_fps,
            max_bytes=rules.max_bytes,
            max_video_bitrate=rules.max_video_bitrate,
            aspect=aspect,
            audio=facts.kind == "video",
            plays=loops_to_reach(facts.duration_ms, rules.min_duration_s)
            if facts.kind == "gif"
            else 1,
        )
    animated = facts.kind == "gif" and verdict.send_as == "gif"
    keep_alpha = has_alpha and (rules.formats is None or "png" in rules.formats)
    fmt = "gif" if animated else ("png" if keep_alpha else "jpeg")
    upscale = rules.min_width if "min_width" in rules.soft and facts.width else None
    return ImageSpec(
        format=fmt,
        max_width=rules.max_width,
        max_height=rules.max_height,
        max_pixels=rules.max_pixels,
        max_width_plus_height=rules.max_width_plus_height,
        max_bytes=rules.max_bytes,
        aspect=aspect,
        upscale_to_width=upscale if upscale and facts.width and facts.width < upscale else None,
        max_frames=_hard(rules, "max_frames") if animated else None,
        max_pixels_times_frames=_hard(rules, "max_pixels_times_frames") if animated else None,
    )


def cut_spec(rules: MediaRules, ratio: float, *, has_alpha: bool = False) -> ImageSpec:
    """A still cut to exactly `ratio` (a carousel item shown at the first item's ratio),
    within the form's image rules."""
    keep_alpha = has_alpha and (rules.formats is None or "png" in rules.formats)
    return ImageSpec(
        format="png" if keep_alpha else "jpeg",
        max_width=rules.max_width,
        max_height=rules.max_height,
        max_pixels=rules.max_pixels,
        max_width_plus_height=rules.max_width_plus_height,
        max_bytes=rules.max_bytes,
        aspect=Aspect(low=ratio, high=ratio, fit="crop"),
    )


def _hard(rules: MediaRules, name: str) -> Any:
    """A rule's value unless the network applies it itself (soft)."""
    return None if name in rules.soft else getattr(rules, name)


def _aspect(verdict: Verdict, rules: MediaRules, facts: Facts) -> Aspect | None:
    fits = [r.fix for r in verdict.reasons if r.code == "aspect_ratio_out_of_range"]
    if not fits:
        return None
    return Aspect(low=rules.min_aspect, high=rules.max_aspect, fit=facts.fit)
