"""A generated edge corpus of facts: for any form's rules, facts that meet every one of
them, to push one value at a time to a limit and one step past it."""

from __future__ import annotations

from dataclasses import replace

from medialib.platforms.reasons import Facts
from medialib.platforms.rules import Catalog, Form, MediaRules, Network

_IMAGE_FORMATS = ("jpeg", "png", "webp", "gif")
_DOCUMENT_FORMATS = ("pdf", "docx", "pptx")
_AUDIO_FORMATS = ("mp3", "m4a", "ogg", "wav")


def _pick(allowed: frozenset[str] | None, preferred: tuple[str, ...]) -> str:
    if allowed is None:
        return preferred[0]
    return next((name for name in preferred if name in allowed), sorted(allowed)[0])


def compliant(rules: MediaRules, kind: str) -> Facts:
    """Facts that break none of `rules`: mid-range wherever there is a range."""
    low = rules.min_aspect or 0.5
    high = rules.max_aspect or 2.0
    ratio = 1.0 if low <= 1.0 <= high else (low + high) / 2
    width = max(rules.min_width or 0, 640)
    height = max(rules.min_height or 0, round(width / ratio))
    width = round(height * ratio)
    for most in (rules.max_width, rules.max_height):
        if most and max(width, height) > most:
            scale = most / max(width, height)
            width, height = max(1, int(width * scale)), max(1, int(height * scale))
    size = max(rules.min_bytes or 0, 50_000)
    if rules.max_bytes:
        size = min(size, rules.max_bytes // 2)
    duration = 10.0
    if rules.max_duration_s is not None:
        duration = min(duration, rules.max_duration_s / 2)
    if rules.min_duration_s is not None:
        duration = max(duration, rules.min_duration_s + 1)
    fps = 30.0
    if rules.max_fps is not None:
        fps = min(fps, rules.max_fps)
    base = Facts(kind=kind, size=size, width=width, height=height)
    if kind in ("image", "gif"):
        fmt = "gif" if kind == "gif" else _pick(rules.formats, _IMAGE_FORMATS)
        return replace(base, format=fmt, frames=5 if kind == "gif" else 1, colour_space="srgb")
    if kind == "video":
        return replace(
            base,
            duration_ms=int(duration * 1000),
            container=_pick(rules.containers, ("mp4", "mov", "webm")),
            codec=_pick(rules.video_codecs, ("h264", "hevc")),
            fps=fps,
            pix_fmt="yuv420p",
            interlaced=False,
            moov_first=True,
            edit_lists=False,
            video_bitrate=2_000_000,
            has_audio=True,
            audio_codec="aac",
            audio_profile="LC",
            audio_channels=2,
            audio_sample_rate=48_000,
            audio_bitrate=128_000,
        )
    if kind == "audio":
        return Facts(
            kind="audio",
            format=_pick(rules.formats, _AUDIO_FORMATS),
            size=size,
            duration_ms=int(duration * 1000),
            has_audio=True,
            audio_codec="mp3",
        )
    return Facts(
        kind="document", format=_pick(rules.formats, _DOCUMENT_FORMATS), size=size, pages=3
    )


def single_forms(rules: Catalog) -> list[tuple[Network, Form, str]]:
    """Every (network, form, kind) a single media can be posted in."""
    return [
        (network, form, kind)
        for network in rules
        for form in network.forms
        if form.min_items <= 1
        for kind in form.media
        if form.media[kind].send_as is None
    ]
