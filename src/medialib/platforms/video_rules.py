"""A video's rules in a post form: container and index, the streams only an encode mends
(codec, chroma, bit depth, scan, pixel shape, bit rate, audio), timing, and whether a
variant can fit the byte cap at a watchable bit rate. An animation sent as a video is
timed here too: it is looped up to a network's minimum, never refused for being short.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from medialib.platforms import limits
from medialib.platforms import wording as say
from medialib.platforms.judging import JudgeBase
from medialib.platforms.reasons import Fix, Reason

_REMUXABLE_VIDEO = {"h264", "hevc"}
_REMUXABLE_AUDIO = {"aac", None}
_LOWEST_VIDEO_BITS = 100_000


class VideoJudge(JudgeBase):
    """The video rules of one form for one media."""

    def _video(self) -> Iterable[Reason]:
        rules, facts = self.rules, self.facts
        stream_reasons = list(self._video_streams())
        yield from stream_reasons
        remuxable = (
            not stream_reasons
            and facts.codec in _REMUXABLE_VIDEO
            and (facts.audio_codec in _REMUXABLE_AUDIO)
            and not facts.rotation
        )
        mend: Fix = "remux" if remuxable else "convert"
        if (
            rules.containers is not None
            and facts.container
            and facts.container not in rules.containers
        ):
            yield self._reason(
                "container_not_accepted",
                f"{say.upper(facts.container)} files are not taken here; medialib "
                + ("repackages the streams as MP4." if remuxable else "makes an MP4."),
                mend,
                limit=sorted(rules.containers),
                actual=facts.container,
            )
        if rules.moov_first and facts.moov_first is False:
            yield self._reason(
                "moov_not_first",
                "The file's index (moov) comes after its media; this network wants it first.",
                mend,
                limit="moov first",
                actual="moov last",
            )
        if rules.no_edit_lists and facts.edit_lists:
            yield self._reason(
                "edit_lists",
                "The file carries edit lists, which this network refuses.",
                mend,
                limit="no edit lists",
                actual="edit lists",
            )
        yield from self._timing(animated=False)
        yield from self._pixels()
        yield from self._video_bytes(with_audio=facts.has_audio)

    def _video_streams(self) -> Iterable[Reason]:
        """What only a new encode mends: codecs, chroma, scan, bit rate, audio."""
        rules, facts = self.rules, self.facts
        if rules.video_codecs is not None and facts.codec and facts.codec not in rules.video_codecs:
            yield self._reason(
                "video_codec_not_accepted",
                f"{say.upper(facts.codec)} video is not taken here; "
                "medialib makes an H.264 variant.",
                "convert",
                limit=sorted(rules.video_codecs),
                actual=facts.codec,
            )
        chroma = _chroma(facts.pix_fmt)
        if rules.chroma_420 and chroma is not None and chroma != "420":
            yield self._reason(
                "chroma_subsampling",
                f"4:{chroma[1]}:{chroma[2]} chroma; this network wants 4:2:0.",
                "convert",
                limit="4:2:0",
                actual=f"4:{chroma[1]}:{chroma[2]}",
            )
        depth = _bit_depth(facts.pix_fmt)
        if rules.eight_bit and depth is not None and depth > 8:
            yield self._reason(
                "bit_depth",
                f"{depth}-bit video; this network wants 8-bit (yuv420p): medialib makes an "
                "8-bit variant (HDR tone-mapped).",
                "convert",
                limit=8,
                actual=depth,
            )
        if rules.progressive and facts.interlaced:
            yield self._reason(
                "interlaced",
                "Interlaced video; this network wants progressive scan.",
                "convert",
                limit="progressive",
                actual="interlaced",
            )
        if rules.square_pixels and facts.sample_aspect:
            yield self._reason(
                "non_square_pixels",
                f"Anamorphic video (pixels {facts.sample_aspect}); this network wants square "
                "pixels: medialib makes a variant at the size it is shown.",
                "convert",
                limit="1:1",
                actual=facts.sample_aspect,
            )
        yield from self._limits([limits.VIDEO_BITRATE])
        yield from self._audio_stream()

    def _audio_stream(self) -> Iterable[Reason]:
        rules, facts = self.rules, self.facts
        if not facts.has_audio or facts.audio_codec is None:
            return
        if rules.audio_codecs is not None and facts.audio_codec not in rules.audio_codecs:
            yield self._reason(
                "audio_codec_not_accepted",
                f"{say.upper(facts.audio_codec)} audio is not taken here; medialib makes AAC.",
                "convert",
                limit=sorted(rules.audio_codecs),
                actual=facts.audio_codec,
            )
        elif rules.audio_profiles and facts.audio_profile not in rules.audio_profiles:
            yield self._reason(
                "audio_profile_not_accepted",
                f"{facts.audio_profile or 'This'} AAC is not taken here; medialib makes AAC-LC.",
                "convert",
                limit=sorted(rules.audio_profiles),
                actual=facts.audio_profile,
            )
        yield from self._limits(limits.AUDIO)

    def _animation_timing(self) -> Iterable[Reason]:
        """An animation made into a video plays for whole loops: one shorter than the
        network's minimum is looped up to it, not refused."""
        rules, facts = self.rules, self.facts
        plays = loops_to_reach(facts.duration_ms, rules.min_duration_s)
        if plays > 1 and facts.duration_ms:
            one = facts.duration_ms / 1000
            yield self._reason(
                "too_short",
                f"{say.seconds(one)} long; at least {say.seconds(rules.min_duration_s or 0)}: "
                f"medialib loops it {plays} times ({say.seconds(one * plays)}).",
                "convert",
                limit=rules.min_duration_s,
                actual=round(one, 3),
            )
        yield from (
            reason
            for reason in self._limits([*limits.DURATION, limits.MAX_FPS])
            if reason.code != "too_short"
        )

    def _timing(self, *, animated: bool) -> Iterable[Reason]:
        yield from self._limits(limits.DURATION)
        yield from self._limits([limits.MAX_FPS] if animated else [limits.MAX_FPS, limits.MIN_FPS])

    def _video_bytes(self, *, with_audio: bool) -> Iterable[Reason]:
        rules, facts = self.rules, self.facts
        if facts.size is None or rules.max_bytes is None or facts.size <= rules.max_bytes:
            if facts.kind == "video":
                yield from self._min_bytes()
            return
        seconds = max((facts.duration_ms or 0) / 1000, 0.1)
        budget = rules.max_bytes * 8 * 0.97 - (128_000 * seconds if with_audio else 0)
        fits = budget / (seconds + 1) >= _LOWEST_VIDEO_BITS
        shown, most = say.sizes(facts.size, rules.max_bytes)
        how = " when sent by URL" if rules.by_url else ""
        yield self._reason(
            "file_too_large",
            f"{shown}; at most {most}{how}. "
            + (
                "medialib makes a smaller variant."
                if fits
                else "Too long to fit at any watchable quality."
            ),
            "convert" if fits else "none",
            limit=rules.max_bytes,
            actual=facts.size,
            rule="max_bytes",
        )

    def _min_bytes(self) -> Iterable[Reason]:
        yield from (r for r in self._bytes(convertible=False) if r.code == "file_too_small")


def loops_to_reach(duration_ms: int | None, least_s: float | None) -> int:
    """How many plays of an animation last at least `least_s` (1 when unknown or long)."""
    if not duration_ms or not least_s or duration_ms >= least_s * 1000:
        return 1
    return -(-int(least_s * 1000) // duration_ms)


def _bit_depth(pix_fmt: str | None) -> int | None:
    """yuv420p10le is 10-bit; a name without a depth is 8-bit."""
    if not pix_fmt:
        return None
    found = re.search(r"p(9|10|12|14|16)(le|be)?$", pix_fmt)
    return int(found.group(1)) if found else 8


def _chroma(pix_fmt: str | None) -> str | None:
    if not pix_fmt or not pix_fmt.startswith(("yuv", "yuvj")):
        return None
    digits = pix_fmt.removeprefix("yuvj").removeprefix("yuva").removeprefix("yuv")[:3]
    return digits if digits.isdigit() else None
