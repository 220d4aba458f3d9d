"""A video's MP4 variant (H.264 + AAC) for networks that need one, made by FFmpeg through
PyAV in a bounded child process (see sandbox.py), like every decoder here.

Upright (the display rotation is applied, so no player has to), fitted into the
network's box with even dimensions, at most its frame rate (frames are dropped evenly),
4:2:0 High profile, AAC-LC stereo at 48 kHz, `moov` at the front (`+faststart`), and no
metadata from the source. When the result is over a byte cap it is made again at the
bit rate that fits.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any

from medialib.processing.avprobe import demuxer_for, open_input
from medialib.processing.sandbox import run_child

if TYPE_CHECKING:
    from pathlib import Path

_TURNS = {90: ("transpose", "cclock"), 180: ("rotate", "PI"), 270: ("transpose", "clock")}
_AUDIO_RATE = 48_000
_AUDIO_BITS = 128_000


def transcode_mp4(
    source: Path,
    mime: str,
    out_path: Path,
    *,
    max_width: int | None,
    max_height: int | None,
    max_fps: float | None,
    max_bytes: int | None,
    duration_ms: int | None,
    timeout_seconds: float,
) -> dict[str, Any]:
    """Write the MP4 variant; returns width, height, fps and size."""
    args = [
        str(source),
        demuxer_for(mime),
        str(out_path),
        str(max_width or 0),
        str(max_height or 0),
        str(max_fps or 0),
        "0",  # bit rate: 0 = constant quality (CRF)
    ]
    made = _run(args, timeout_seconds)
    if max_bytes and made["size"] > max_bytes and duration_ms:
        seconds = max(duration_ms / 1000, 0.1)
        video_bits = int(max_bytes * 8 * 0.92 / seconds) - _AUDIO_BITS
        if video_bits < 100_000:
            return made  # cannot fit at any watchable rate: the caller sees the size
        args[-1] = str(video_bits)
        made = _run(args, timeout_seconds)
    return made


def _run(args: list[str], timeout_seconds: float) -> dict[str, Any]:
    return run_child(
        _transcode_in_child,
        *args,
        timeout_seconds=timeout_seconds,
        memory_bytes=3 * 1024 * 1024 * 1024,  # x264's lookahead wants more than a decoder
        failure_message="The video could not be converted.",
    )


def _transcode_in_child(argv: list[str]) -> dict[str, Any]:
    import os

    import av

    path, demuxer, out_path, max_w, max_h, max_fps_text, bit_rate = argv
    with open_input(path, demuxer) as src, av.open(out_path, "w", format="mp4") as out:
        vin = src.streams.video[0]
        vin.thread_type = "AUTO"
        ain = next(iter(src.streams.audio), None)
        source_rate = vin.average_rate or vin.guessed_rate or Fraction(30)
        fps = _limit(Fraction(source_rate), float(max_fps_text))
        vout = out.add_stream("libx264", rate=fps)
        vout.pix_fmt = "yuv420p"
        vout.options = (
            {"preset": "veryfast", "profile": "high", "crf": "23"}
            if bit_rate == "0"
            else {"preset": "veryfast", "profile": "high"}
        )
        if bit_rate != "0":
            vout.bit_rate = int(bit_rate)
        aout = None
        if ain is not None:
            aout = out.add_stream("aac", rate=_AUDIO_RATE)
            aout.layout = "stereo"
            aout.bit_rate = _AUDIO_BITS
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=_AUDIO_RATE)
        graph: Any = None
        held: list[Any] = []  # audio before the first picture: the muxer waits for its size
        next_time, frames, samples = 0.0, 0, 0
        streams = [vin] if ain is None else [vin, ain]
        for packet in src.demux(*streams):
            for frame in packet.decode():
                if packet.stream is vin:
                    if frame.time is not None and frame.time + 1e-6 < next_time:
                        continue  # dropped to meet the frame rate
                    next_time = (frame.time or 0) + 1 / float(fps)
                    if graph is None:
                        graph = _video_graph(frame, int(max_w), int(max_h), vout)
                    graph.push(frame)
                    upright = graph.pull()
                    upright.pts, upright.time_base = frames, Fraction(1, 1) / fps
                    frames += 1
                    out.mux(vout.encode(upright))
                    for packets in held:
                        out.mux(packets)
                    held.clear()
                elif aout is not None:
                    for chunk in resampler.resample(frame):
                        chunk.pts, chunk.time_base = samples, Fraction(1, _AUDIO_RATE)
                        samples += chunk.samples
                        encoded = aout.encode(chunk)
                        if graph is None:
                            held.append(encoded)
                        else:
                            out.mux(encoded)
        if frames == 0:
            raise SystemExit("the video has no decodable frame")
        out.mux(vout.encode(None))
        if aout is not None:
            out.mux(aout.encode(None))
        width, height = vout.width, vout.height
    return {
        "width": width,
        "height": height,
        "fps": round(float(fps), 3),
        "size": os.path.getsize(out_path),
    }


def _limit(rate: Fraction, most: float) -> Fraction:
    if most and float(rate) > most:
        return Fraction(most).limit_denominator(1001)
    return rate.limit_denominator(1001)


def _video_graph(frame: Any, max_w: int, max_h: int, vout: Any) -> Any:
    """Scale into the box (even sides), turn upright, 4:2:0; sets the encoder's size."""
    import av

    turn = _TURNS.get(int(getattr(frame, "rotation", 0) or 0) % 360)
    width, height = frame.width, frame.height
    shown_w, shown_h = (height, width) if turn and turn[0] == "transpose" else (width, height)
    scale = min(
        1.0,
        (max_w / shown_w) if max_w else 1.0,
        (max_h / shown_h) if max_h else 1.0,
    )
    out_w = max(2, int(shown_w * scale) // 2 * 2)
    out_h = max(2, int(shown_h * scale) // 2 * 2)
    # Scale before turning: the scale filter sees the stored (not yet turned) sides.
    stored_w, stored_h = (out_h, out_w) if turn and turn[0] == "transpose" else (out_w, out_h)
    steps = [("scale", f"{stored_w}:{stored_h}")]
    if turn:
        steps.append(turn)
    steps.append(("format", "yuv420p"))
    graph = av.filter.Graph()
    node = graph.add_buffer(
        width=width,
        height=height,
        format=frame.format,
        time_base=frame.time_base or Fraction(1, 25),
    )
    for name, argument in steps:
        following = graph.add(name, argument)
        node.link_to(following)
        node = following
    node.link_to(graph.add("buffersink"))
    graph.configure()
    vout.width, vout.height = out_w, out_h
    return graph
