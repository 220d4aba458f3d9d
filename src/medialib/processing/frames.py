"""Grab one video frame as a JPEG, in a bounded child process (see sandbox.py).

The frame is taken at or just after the requested time (seek to the keyframe before,
then decode forward, as `ffmpeg -ss T -i …` does), scaled, turned upright by the
stream's display rotation and encoded by FFmpeg itself (a filter graph and the mjpeg
encoder), so the child needs nothing but PyAV: it starts fast, and writes no metadata.
"""

from __future__ import annotations

import resource
from typing import TYPE_CHECKING, Any

from medialib.processing.avprobe import decoder_threads, demuxer_for, open_input
from medialib.processing.sandbox import run_child

if TYPE_CHECKING:
    from pathlib import Path

JPEG_QSCALE = 4  # FFmpeg's JPEG quantiser scale: 2 (best) to 31; 4 looks like quality ≈ 85


def extract_frame(
    path: Path,
    mime: str,
    *,
    at_ms: int,
    out_path: Path,
    max_side: int,
    timeout_seconds: float,
) -> dict[str, Any]:
    """Write the frame at `at_ms` to `out_path`; returns width, height, frame_time_ms
    (and the child's peak resident bytes, peak_memory)."""
    return run_child(
        _frame_in_child,
        str(path),
        demuxer_for(mime),
        str(at_ms),
        str(out_path),
        str(max_side),
        timeout_seconds=timeout_seconds,
        failure_message="No frame could be read from the video at that time.",
    )


def _frame_in_child(argv: list[str]) -> dict[str, Any]:
    path, demuxer, at_ms_text, out_path, max_side_text = argv
    target = int(at_ms_text) / 1000
    with open_input(path, demuxer) as container:
        video = container.streams.video[0]
        video.thread_type = decoder_threads(video.codec_context.width, video.codec_context.height)
        if target > 0 and video.time_base:
            container.seek(int(target / video.time_base), stream=video, backward=True)
        chosen = None
        for frame in container.decode(video):
            chosen = frame
            if frame.time is not None and frame.time >= target - 0.0005:
                break
        if chosen is None:
            raise SystemExit("the video has no decodable frame")
        upright = _upright_scaled(chosen, int(max_side_text))
        with open(out_path, "wb") as out:
            out.write(_jpeg(upright))
        return {
            "width": upright.width,
            "height": upright.height,
            "frame_time_ms": round((chosen.time or 0) * 1000),
            "peak_memory": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        }


# The display matrix angle is counter-clockwise (as FFmpeg's own autorotation reads it).
_TURNS = {90: ("transpose", "cclock"), 180: ("rotate", "PI"), 270: ("transpose", "clock")}


def _upright_scaled(frame: Any, max_side: int) -> Any:
    """Scale, turn upright and convert for JPEG in one FFmpeg filter graph."""
    import av

    scale = min(1.0, max_side / max(frame.width, frame.height))
    width = max(2, round(frame.width * scale / 2) * 2)
    height = max(2, round(frame.height * scale / 2) * 2)
    steps = [("scale", f"{width}:{height}")]
    turn = _TURNS.get(int(getattr(frame, "rotation", 0) or 0) % 360)
    if turn:
        steps.append(turn)
    steps.append(("format", "yuvj420p"))
    graph = av.filter.Graph()
    node = graph.add_buffer(
        width=frame.width, height=frame.height, format=frame.format, time_base=_time_base(frame)
    )
    for name, argument in steps:
        following = graph.add(name, argument)
        node.link_to(following)
        node = following
    node.link_to(graph.add("buffersink"))
    graph.configure()
    graph.push(frame)
    return graph.pull()


def _jpeg(frame: Any) -> bytes:
    import av

    encoder = av.CodecContext.create("mjpeg", "w")
    encoder.width, encoder.height, encoder.pix_fmt = frame.width, frame.height, "yuvj420p"
    encoder.time_base = _time_base(frame)
    encoder.options = {"qmin": "2", "qmax": str(JPEG_QSCALE)}
    frame.pts = 0
    return b"".join(bytes(packet) for packet in [*encoder.encode(frame), *encoder.encode(None)])


def _time_base(frame: Any) -> Any:
    from fractions import Fraction

    return frame.time_base or Fraction(1, 25)
