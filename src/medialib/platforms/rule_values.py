"""One merged section of the data file, typed: every value checked (a count is a whole
number, a list a list) and the data file's words read as rules (codec names to FFmpeg's,
constraint phrases to flags). rules.py turns the result into MediaRules.
"""

from __future__ import annotations

import re
from typing import Any

_PLAIN_NAME = re.compile(r"^[a-z0-9]+$")
# Codec names as the data file writes them, to FFmpeg's names.
_CODEC_WORDS = {
    "h.264": "h264",
    "h264": "h264",
    "avc": "h264",
    "hevc": "hevc",
    "h.265": "hevc",
    "h265": "hevc",
    "vp8": "vp8",
    "vp9": "vp9",
    "av1": "av1",
    "mpeg4": "mpeg4",
}
# Phrases of a section's `constraints` list, and `pixel_format`, to the rule they state.
_CONSTRAINTS = {
    "4:2:0": "chroma_420",
    "progressive": "progressive",
    "no edit lists": "no_edit_lists",
    "moov atom at front": "moov_first",
}


class RulesError(ValueError):
    """A data file holds a value medialib cannot read; start-up stops with this."""


class SectionTyper:
    """Turns one merged section into the keyword arguments of MediaRules, checking every
    value's type."""

    def __init__(self, where: str, file: str, values: dict[str, Any]) -> None:
        self.where, self.file, self.values = where, file, values

    def rules(self, *, soft: frozenset[str], audio: Any, codecs: Any) -> dict[str, Any]:
        v = self.values
        via_url = self._int("max_file_bytes_via_url")
        max_bytes = self._int("max_file_bytes")
        by_url = via_url is not None and (max_bytes is None or via_url < max_bytes)
        exact_aspect = self._number("aspect_ratio")
        constraints = " ".join(str(item) for item in v.get("constraints") or []).lower()
        found = {rule for phrase, rule in _CONSTRAINTS.items() if phrase in constraints}
        if str(v.get("pixel_format", "")).lower() == "yuv420p":
            found |= {"chroma_420", "eight_bit"}
        audio = audio or {}
        return dict(
            formats=self._names("formats"),
            containers=self._names("containers"),
            video_codecs=self._codecs(codecs),
            audio_codecs=_set(audio.get("codecs")),
            audio_profiles=_set(audio.get("profiles"), lower=False),
            max_audio_channels=audio.get("max_channels"),
            max_audio_sample_rate=audio.get("max_sample_rate"),
            min_audio_bitrate=self._int("min_audio_bitrate_bps"),
            min_bytes=self._int("min_file_bytes"),
            max_bytes=via_url if by_url else max_bytes,
            by_url=by_url,
            upload_max_bytes=max_bytes if by_url else None,
            min_width=self._int("min_width"),
            min_height=self._int("min_height"),
            max_width=self._int("max_width"),
            max_height=self._int("max_height"),
            max_pixels=self._int("max_pixels"),
            max_width_plus_height=self._int("max_width_plus_height"),
            min_aspect=exact_aspect or self._number("aspect_ratio_min"),
            max_aspect=exact_aspect or self._number("aspect_ratio_max"),
            min_duration_s=self._number("min_duration_s"),
            max_duration_s=self._number("max_duration_s"),
            min_fps=self._number("min_fps"),
            max_fps=self._number("max_fps"),
            max_frames=self._int("max_frames"),
            max_pixels_times_frames=self._int("max_total_pixels_times_frames"),
            max_video_bitrate=self._int("max_video_bitrate_bps"),
            chroma_420="chroma_420" in found,
            eight_bit="eight_bit" in found,
            progressive="progressive" in found,
            square_pixels=self._number("pixel_aspect_ratio") == 1,
            moov_first="moov_first" in found,
            no_edit_lists="no_edit_lists" in found,
            srgb=str(v.get("color_space", "")).lower() == "srgb",
            max_pages=self._int("max_pages"),
            alt_text_max_chars=self._int("alt_text_max_chars"),
            soft=soft,
        )

    def _bad(self, key: str, expected: str) -> RulesError:
        return RulesError(
            f"{self.file}: {self.where}.{key}: expected {expected}, got {self.values[key]!r}"
        )

    def _number(self, key: str) -> float | None:
        value = self.values.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise self._bad(key, "a number")
        return float(value)

    def _int(self, key: str) -> int | None:
        value = self.values.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self._bad(key, "a whole number")
        return value

    def _names(self, key: str) -> frozenset[str] | None:
        """A list of plain names is an allow-list; prose ("any file") allows anything."""
        listed = self.values.get(key)
        if listed is None:
            return None
        if not isinstance(listed, list):
            raise self._bad(key, "a list")
        names = {str(item).lower() for item in listed}
        return frozenset(names) if names and all(_PLAIN_NAME.match(n) for n in names) else None

    def _codecs(self, override: Any) -> frozenset[str] | None:
        if override == "any":
            return None
        listed = self.values.get("video_codecs")
        if listed is None:
            return None
        if not isinstance(listed, list):
            raise self._bad("video_codecs", "a list")
        text = " ".join(str(item) for item in listed).lower()
        if text.startswith("any"):
            return None
        found = {name for word, name in _CODEC_WORDS.items() if word in text}
        return frozenset(found) or None


def _set(value: Any, *, lower: bool = True) -> frozenset[str] | None:
    if not value:
        return None
    return frozenset(str(item).lower() if lower else str(item) for item in value)
