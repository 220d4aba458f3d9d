"""Whether each network takes a media as it is (green), once medialib makes a variant of
it (amber: too large, wrong format or codec, too many pixels), or not at all (red: too
long, too small, a kind the network does not take). Pure: facts in, verdicts out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from medialib.platforms import rules as platform_rules

Colour = Literal["green", "amber", "red"]
_ORDER = {"green": 0, "amber": 1, "red": 2}
_IMAGE_FORMATS = {
    "image/jpeg": "jpeg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/heic": "heic",
    "image/heif": "heif",
    "image/avif": "avif",
}
_DOCUMENT_FORMATS = {
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
}


@dataclass(frozen=True, slots=True)
class Facts:
    """What medialib knows of an asset, as the rules need it."""

    kind: str
    content_type: str | None
    size: int | None
    width: int | None = None
    height: int | None = None
    duration_ms: int | None = None
    container: str | None = None
    codec: str | None = None
    fps: float | None = None
    frames: int | None = None
    pages: int | None = None


@dataclass(slots=True)
class Verdict:
    platform: str
    verdict: Colour = "green"
    reasons: list[str] = field(default_factory=list)

    def flag(self, colour: Colour, reason: str) -> None:
        self.reasons.append(reason)
        if _ORDER[colour] > _ORDER[self.verdict]:
            self.verdict = colour


def judge_all(facts: Facts) -> list[Verdict]:
    return [judge(name, network, facts) for name, network in platform_rules.load().items()]


def judge(platform: str, network: dict[str, Any], facts: Facts) -> Verdict:
    verdict = Verdict(platform)
    kind = facts.kind
    rules = platform_rules.section(network, kind)
    if kind == "gif" and (rules is None or rules.get("accepted") is False):
        verdict.flag("amber", "does not take animated GIFs: a video or still variant is needed")
        return verdict
    if rules is None:
        verdict.flag("red", f"does not take {_plural(kind)}")
        return verdict
    if kind in ("image", "gif"):
        _judge_image(verdict, rules, facts)
    elif kind == "video":
        _judge_video(verdict, rules, facts)
    elif kind == "document":
        _judge_document(verdict, rules, facts)
    return verdict


def _judge_image(verdict: Verdict, rules: dict[str, Any], facts: Facts) -> None:
    fmt = _IMAGE_FORMATS.get(facts.content_type or "", "")
    allowed = platform_rules.allowed_formats(rules, "formats")
    if allowed is not None and fmt not in allowed and facts.kind == "image":
        verdict.flag("amber", f"{fmt or 'this format'} is not taken: a JPEG variant is needed")
    _judge_bytes(verdict, rules, facts)
    _judge_pixels(verdict, rules, facts)
    max_frames = rules.get("max_frames")
    if facts.frames and isinstance(max_frames, int) and facts.frames > max_frames:
        verdict.flag("amber", f"{facts.frames} frames, more than {max_frames}")


def _judge_video(verdict: Verdict, rules: dict[str, Any], facts: Facts) -> None:
    allowed = platform_rules.allowed_formats(rules, "containers")
    if allowed is not None and facts.container and facts.container not in allowed:
        verdict.flag(
            "amber", f"{facts.container} is not taken: an MP4 (H.264/AAC) variant is needed"
        )
    codecs = " ".join(str(c) for c in rules.get("video_codecs") or []).lower()
    # Prose such as "any ffmpeg-decodable …" means the network transcodes by itself.
    requires_h264 = "264" in codecs and not codecs.startswith("any")
    if requires_h264 and facts.codec and facts.codec != "h264":
        verdict.flag("amber", f"{facts.codec} video: an H.264 variant is needed")
    seconds = facts.duration_ms / 1000 if facts.duration_ms is not None else None
    longest, shortest = rules.get("max_duration_s"), rules.get("min_duration_s")
    if seconds is not None and isinstance(longest, int | float) and seconds > longest:
        verdict.flag("red", f"{seconds:.0f} s long; at most {longest:g} s")
    if seconds is not None and isinstance(shortest, int | float) and seconds < shortest:
        verdict.flag("red", f"{seconds:.1f} s long; at least {shortest:g} s")
    max_fps = rules.get("max_fps")
    if facts.fps and isinstance(max_fps, int | float) and facts.fps > max_fps:
        verdict.flag("amber", f"{facts.fps:g} fps; at most {max_fps:g}")
    _judge_bytes(verdict, rules, facts)
    _judge_pixels(verdict, rules, facts)


def _judge_document(verdict: Verdict, rules: dict[str, Any], facts: Facts) -> None:
    fmt = _DOCUMENT_FORMATS.get(facts.content_type or "", "")
    allowed = platform_rules.allowed_formats(rules, "formats")
    if allowed is not None and fmt not in allowed:
        verdict.flag("red", f"{fmt or 'this format'} is not taken")
    largest = rules.get("max_file_bytes")
    if facts.size and isinstance(largest, int) and facts.size > largest:
        verdict.flag("red", f"{_mb(facts.size)}; at most {_mb(largest)}")
    most_pages = rules.get("max_pages")
    if facts.pages and isinstance(most_pages, int) and facts.pages > most_pages:
        verdict.flag("red", f"{facts.pages} pages; at most {most_pages}")


def _judge_bytes(verdict: Verdict, rules: dict[str, Any], facts: Facts) -> None:
    largest = rules.get("max_file_bytes")
    if facts.size and isinstance(largest, int) and facts.size > largest:
        verdict.flag(
            "amber",
            f"{_mb(facts.size)}, over the {_mb(largest)} limit: a smaller variant is needed",
        )


def _judge_pixels(verdict: Verdict, rules: dict[str, Any], facts: Facts) -> None:
    if not facts.width or not facts.height:
        return
    width, height = facts.width, facts.height
    min_w, min_h = rules.get("min_width"), rules.get("min_height")
    if (isinstance(min_w, int) and width < min_w) or (isinstance(min_h, int) and height < min_h):
        verdict.flag("red", f"{width}x{height} is smaller than {min_w or '?'}x{min_h or '?'}")
    max_w, max_h = rules.get("max_width"), rules.get("max_height")
    if (isinstance(max_w, int) and width > max_w) or (isinstance(max_h, int) and height > max_h):
        bounds = f"{max_w or '-'}x{max_h or '-'}"
        verdict.flag("amber", f"{width}x{height} is over {bounds}: a resized variant is needed")
    ratio = width / height
    low, high = rules.get("aspect_ratio_min"), rules.get("aspect_ratio_max")
    if (isinstance(low, int | float) and ratio < low) or (
        isinstance(high, int | float) and ratio > high
    ):
        span = f"{low or 0:g}-{high or 'any'}"
        verdict.flag(
            "amber", f"aspect ratio {ratio:.2f} is outside {span}: a padded variant is needed"
        )


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def _plural(kind: str) -> str:
    return {"audio": "audio files", "gif": "GIFs"}.get(kind, f"{kind}s")
