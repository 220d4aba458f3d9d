"""What a made file really is, read back from its bytes by decoding every frame (not from
what the code that made it reports): the check every variant test applies."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import av

from medialib.processing.mp4layout import read_layout


@dataclass(frozen=True)
class Clip:
    container: str
    codec: str
    profile: str | None
    pix_fmt: str
    width: int
    height: int
    frames: int
    first_s: float
    last_s: float
    rate: float
    interlaced: bool
    intervals_ms: frozenset[int]  # the distinct gaps between frames (one: constant rate)
    audio_codec: str | None
    audio_profile: str | None
    audio_channels: int | None
    audio_rate: int | None
    moov_first: bool | None
    edit_lists: bool | None

    @property
    def seconds(self) -> float:
        """How long the pictures play: the last frame's time plus its own duration."""
        return self.last_s - self.first_s + 1 / self.rate

    @property
    def constant_rate(self) -> bool:
        return max(self.intervals_ms) - min(self.intervals_ms) <= 1 if self.intervals_ms else True


def clip(path: Path) -> Clip:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        audio = next(iter(container.streams.audio), None)
        times: list[float] = []
        interlaced = False
        for frame in container.decode(video):
            times.append(float(frame.time or 0))
            interlaced = interlaced or bool(frame.interlaced_frame)
        gaps = frozenset(round((b - a) * 1000) for a, b in itertools.pairwise(times))
        layout = read_layout(path)
        context = video.codec_context
        return Clip(
            container=container.format.name,
            codec=context.name,
            profile=context.profile,
            pix_fmt=context.pix_fmt,
            width=context.width,
            height=context.height,
            frames=len(times),
            first_s=times[0] if times else 0.0,
            last_s=times[-1] if times else 0.0,
            rate=float(video.average_rate or 0),
            interlaced=interlaced or context.field_order in (2, 3, 4, 5),
            intervals_ms=gaps,
            audio_codec=audio.codec_context.name if audio else None,
            audio_profile=audio.codec_context.profile if audio else None,
            audio_channels=audio.codec_context.channels if audio else None,
            audio_rate=audio.codec_context.sample_rate if audio else None,
            moov_first=layout.moov_first if layout else None,
            edit_lists=layout.edit_lists if layout else None,
        )
