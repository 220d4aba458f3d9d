"""The networks' numeric rules as rows: "when the rule is set and the fact is past it, this
reason". One loop (`broken`) reads them; verdicts.py says which rows apply to which kind
of media. Pure.

A row's `actual` gives None when the fact is unknown (or meaningless, such as a frame
count of 0), and the row is then skipped; a rule left unset (None or 0) is skipped too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from medialib.platforms import wording as say

if TYPE_CHECKING:
    from medialib.platforms.reasons import Facts, Fix
    from medialib.platforms.rules import MediaRules

Number = int | float
# (facts, actual, limit, soft) -> the reason's message
Message = Callable[["Facts", Any, Any, bool], str]


@dataclass(frozen=True, slots=True)
class Limit:
    rule: str  # the MediaRules field, and its name in `soft`
    code: str
    fix: Fix  # a soft rule's fix is `scaled_by_network` instead (when `softens`)
    actual: Callable[[Facts], Number | None]
    past: Callable[[Number, Number], bool]
    message: Message
    shown: Callable[[Number], Any] = lambda value: value  # `actual` as the reason has it
    softens: bool = True  # whether `soft` can name this rule


def broken(
    rows: Iterable[Limit], rules: MediaRules, facts: Facts
) -> Iterable[tuple[Limit, Any, Any, bool]]:
    """Each row whose rule the facts break: (row, actual, limit, soft)."""
    for row in rows:
        limit = getattr(rules, row.rule)
        if not limit:
            continue
        actual = row.actual(facts)
        if actual is None or not row.past(actual, limit):
            continue
        yield row, actual, limit, row.softens and row.rule in rules.soft


def _above(actual: Number, limit: Number) -> bool:
    return actual > limit


def _below(actual: Number, limit: Number) -> bool:
    return actual < limit


def _pixels(facts: Facts) -> int | None:
    return facts.width * facts.height if facts.width and facts.height else None


def _seconds(facts: Facts) -> float | None:
    return facts.duration_ms / 1000 if facts.duration_ms is not None else None


def _side_message(word: str, *, least: bool) -> Message:
    def message(_: Facts, actual: Any, limit: Any, soft: bool) -> str:
        if least:
            remedy = " The network scales it up itself." if soft else ""
            return f"{actual} px {word}; at least {limit} px.{remedy}"
        remedy = (
            "the network scales it down itself." if soft else "medialib makes a smaller variant."
        )
        return f"{actual} px {word}; at most {limit} px: {remedy}"

    return message


PIXELS = (
    Limit(
        "min_width", "too_small", "none", lambda f: f.width, _below,
        _side_message("wide", least=True),
    ),
    Limit(
        "min_height", "too_small", "none", lambda f: f.height, _below,
        _side_message("tall", least=True),
    ),
    Limit(
        "max_width", "too_large_dimensions", "convert", lambda f: f.width, _above,
        _side_message("wide", least=False),
    ),
    Limit(
        "max_height", "too_large_dimensions", "convert", lambda f: f.height, _above,
        _side_message("tall", least=False),
    ),
    Limit(
        "max_pixels", "too_many_pixels", "convert", _pixels, _above,
        lambda f, a, lim, _: f"{f.width}x{f.height} is {a:,} pixels; at most {lim:,}.",
    ),
    Limit(
        "max_width_plus_height", "width_plus_height_too_large", "convert",
        lambda f: f.width + f.height if f.width and f.height else None, _above,
        lambda f, a, lim, _: f"Width and height add up to {a} px; at most {lim} px.",
    ),
)  # fmt: skip

FRAMES = (
    Limit(
        "max_frames", "too_many_frames", "convert", lambda f: f.frames or None, _above,
        lambda f, a, lim, _: f"{a} frames; at most {lim}: medialib keeps fewer frames, each "
        "shown longer, so the animation plays as long.",
    ),
    Limit(
        "max_pixels_times_frames", "too_many_pixels_times_frames", "convert",
        lambda f: (_pixels(f) or 0) * f.frames if f.frames and _pixels(f) else None, _above,
        lambda f, a, lim, _: f"{a:,} pixels over all frames; at most {lim:,}: medialib makes "
        "a smaller GIF.",
    ),
)  # fmt: skip

# The byte cap's reason is made by the caller (its fix depends on the kind); the floor:
MIN_BYTES = Limit(
    "min_bytes", "file_too_small", "none", lambda f: f.size, _below,
    lambda f, a, lim, _: "{}; at least {}.".format(*say.sizes(a, lim)),
)  # fmt: skip

DURATION = (
    Limit(
        "max_duration_s", "too_long", "none", _seconds, _above,
        lambda f, a, lim, _: f"{say.seconds(a)} long; at most {say.seconds(lim)}.",
        shown=lambda value: round(value, 3),
    ),
    Limit(
        "min_duration_s", "too_short", "none", _seconds,
        lambda actual, least: actual < least or actual <= 0,
        lambda f, a, lim, _: f"{say.seconds(a)} long; at least {say.seconds(lim)}.",
        shown=lambda value: round(value, 3),
    ),
)  # fmt: skip

MAX_FPS = Limit(
    "max_fps", "fps_too_high", "convert", lambda f: f.fps or None,
    lambda actual, most: actual > most + 0.01,
    lambda f, a, lim, _: f"{a:g} frames a second; at most {lim:g}. "
    "medialib makes a variant at a lower rate.",
)  # fmt: skip

MIN_FPS = Limit(
    "min_fps", "fps_too_low", "convert", lambda f: f.fps or None,
    lambda actual, least: actual < least - 0.01,
    lambda f, a, lim, _: f"{a:g} frames a second; at least {lim:g}. "
    "medialib makes a variant at a higher rate.",
)  # fmt: skip

VIDEO_BITRATE = Limit(
    "max_video_bitrate", "video_bitrate_too_high", "convert",
    lambda f: f.video_bitrate or None, _above,
    lambda f, a, lim, _: f"{say.mbps(a)} video; at most {say.mbps(lim)}.",
)  # fmt: skip

AUDIO = (
    Limit(
        "max_audio_channels", "audio_channels", "convert", lambda f: f.audio_channels or None,
        _above, lambda f, a, lim, _: f"{a} audio channels; at most {lim} (stereo).",
        softens=False,
    ),
    Limit(
        "max_audio_sample_rate", "audio_sample_rate", "convert",
        lambda f: f.audio_sample_rate or None, _above,
        lambda f, a, lim, _: f"{a / 1000:g} kHz audio; at most {lim / 1000:g} kHz.",
        softens=False,
    ),
    Limit(
        "min_audio_bitrate", "audio_bitrate_too_low", "convert",
        lambda f: f.audio_bitrate or None, lambda actual, least: actual < least * 0.95,
        lambda f, a, lim, _: f"{a // 1000} kb/s audio; at least {lim // 1000} kb/s.",
        softens=False,
    ),
)  # fmt: skip

PAGES = Limit(
    "max_pages", "too_many_pages", "none", lambda f: f.pages or None, _above,
    lambda f, a, lim, _: f"{a} pages; at most {lim}.",
    softens=False,
)  # fmt: skip


def aspect_outside(
    width: int, height: int, low: float | None, high: float | None
) -> tuple[bool, bool]:
    """Whether width x height is narrower than `low` or wider than `high`. A range's ends
    are exact (0.7995 is not 4:5); an exact ratio (low == high) allows the one pixel that
    whole pixels cannot avoid (607x1080 is 9:16 to the pixel)."""
    if low is not None and low == high:
        off = width - low * height
        return off < -1, off > 1
    ratio = width / height
    return (low is not None and ratio < low), (high is not None and ratio > high)
