"""An MP4 of the same streams, untouched: `moov` first (`+faststart`) and no edit lists,
for a source whose only faults are its packaging; and the facts of any MP4 made here.
FFmpeg through PyAV in a bounded child process (see sandbox.py)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from medialib.processing.avprobe import codec_name, demuxer_for, open_input
from medialib.processing.sandbox import run_child

MP4_OPTIONS = {"movflags": "+faststart", "use_editlist": "0"}


@dataclass(frozen=True, slots=True)
class MadeVideo:
    width: int
    height: int
    fps: float
    size: int
    duration_ms: int
    video_bitrate: int | None
    method: str  # "encode" or "remux"
    codec: str = "h264"  # a remux keeps the source's (HEVC stays HEVC, and says so)
    peak_memory: int | None = None  # the encoding process's peak resident bytes


def remux_mp4(source: Path, mime: str, out_path: Path, *, timeout_seconds: float) -> MadeVideo:
    """The same streams, untouched, in an MP4 with `moov` first and no edit lists."""
    made = run_child(
        _remux_in_child,
        str(source),
        demuxer_for(mime),
        str(out_path),
        timeout_seconds=timeout_seconds,
        failure_message="The video could not be repackaged.",
    )
    return MadeVideo(**made)


# --- in the child ---------------------------------------------------------------


def _remux_in_child(argv: list[str]) -> dict[str, Any]:
    import av

    path, demuxer, out_path = argv
    with (
        open_input(path, demuxer) as src,
        av.open(out_path, "w", format="mp4", options=MP4_OPTIONS) as out,
    ):
        vin = src.streams.video[0]
        ain = next(iter(src.streams.audio), None)
        streams = [vin] if ain is None else [vin, ain]
        outputs = {stream.index: out.add_stream_from_template(stream) for stream in streams}
        frames = 0
        for packet in src.demux(*streams):
            if packet.dts is None:
                continue
            if packet.stream is vin:
                frames += 1
            packet.stream = outputs[packet.stream.index]
            out.mux(packet)
        rate = Fraction(vin.average_rate or vin.guessed_rate or 30)
        context = vin.codec_context
        width, height = context.width, context.height
        sar = context.sample_aspect_ratio
        if sar and sar.numerator > 0 and sar.denominator > 0 and sar != 1:
            width = max(2, round(width * sar))  # as shown, as the probe reports it
        codec = codec_name(context)
    return {**made_facts(out_path, width, height, rate, frames, "remux"), "codec": codec}


def made_facts(
    out_path: str, width: int, height: int, fps: Fraction, frames: int, method: str
) -> dict[str, Any]:
    import os

    size = os.path.getsize(out_path)
    duration_ms = int(frames * 1000 / float(fps)) if fps else 0
    bits = int(size * 8 * 1000 / duration_ms) if duration_ms else None
    return {
        "width": int(width),
        "height": int(height),
        "fps": round(float(fps), 3),
        "size": size,
        "duration_ms": duration_ms,
        "video_bitrate": bits,
        "method": method,
    }
