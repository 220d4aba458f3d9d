"""A media's MP4 (H.264 + AAC) variant for networks that need one, made by FFmpeg through
PyAV in a bounded child process (see sandbox.py), like every decoder here.

What every file made here is, proved from its bytes by the tests: `moov` before `mdat`
(`+faststart`) and no edit lists (Threads and Instagram refuse both); a constant frame rate
whose frames follow the source's timestamps (FFmpeg's `fps` filter, so a variable-rate
WebM neither loses frames nor plays fast), raised to a network's minimum or lowered to its
maximum; upright (the display rotation applied), progressive (interlaced sources are
deinterlaced), 4:2:0 High profile with a closed GOP of two seconds; AAC-LC stereo at
48 kHz; no metadata from the source.

One encode, aimed at the byte cap: with a cap (or a bit-rate cap) the first encode is a
capped CRF (VBV `maxrate` from the duration and the cap), not a guess thrown away; only a
file that still comes out over is made once more at an average rate scaled to fit. A
source whose streams already comply is remuxed (`remux_mp4`), never re-encoded.
"""

from __future__ import annotations

import json
import queue
import resource
import threading
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any, TypeVar

from medialib.errors import MediaProcessingFailed
from medialib.processing.animation import animation_frames
from medialib.processing.avprobe import demuxer_for, open_input
from medialib.processing.framing import Box
from medialib.processing.remux import MP4_OPTIONS, MadeVideo, made_facts
from medialib.processing.sandbox import run_child
from medialib.processing.video_graph import Shaping, tag_bt709, video_graph

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

_Item = TypeVar("_Item")
AUDIO_RATE = 48_000
AUDIO_BITS = 128_000
_CONTAINER_OVERHEAD = 0.97  # the share of a byte cap left for the streams themselves
_LOWEST_VIDEO_BITS = 100_000  # below this nothing watchable comes out
_NO_CAP = 200_000_000
# The rates a made file keeps: a source near one of them (a variable-rate clip averages
# 29.87) is made at it exactly.
_COMMON_RATES = (
    Fraction(24000, 1001),
    Fraction(24),
    Fraction(25),
    Fraction(30000, 1001),
    Fraction(30),
    Fraction(48),
    Fraction(50),
    Fraction(60000, 1001),
    Fraction(60),
)
MEMORY_BYTES = 3 * 1024 * 1024 * 1024  # x264's lookahead wants more than a decoder
_FRAME_THREADS_UP_TO = 3840 * 2160  # pixels of a picture decoded with frame threads


@dataclass(frozen=True, slots=True)
class VideoTarget:
    """What the made file must be (None: no bound)."""

    max_width: int | None = None
    max_height: int | None = None
    min_fps: float | None = None
    max_fps: float | None = None
    max_bytes: int | None = None
    max_video_bitrate: int | None = None
    crop: Box | None = None
    pad_ratio: float | None = None  # pad (centred, black) to this aspect ratio
    audio: bool = True
    plays: int = 1  # an animation played this many times over (to a minimum duration)


def encode_mp4(
    source: Path,
    mime: str,
    out_path: Path,
    target: VideoTarget,
    *,
    duration_ms: int | None,
    timeout_seconds: float,
) -> MadeVideo:
    """Encode `source` (a video, or an animated GIF/WebP) into the MP4 `target` asks for."""
    seconds = max((duration_ms or 0) / 1000, 0.1) * max(1, target.plays)
    video_bits = _video_bit_cap(target, seconds, with_audio=target.audio)
    made = _encode(source, mime, out_path, target, video_bits, "capped", timeout_seconds)
    if target.max_bytes and made.size > target.max_bytes and video_bits:
        # Still over (a short clip's first frames, VBV's slack): once more at an average
        # rate scaled by how far over the first one came out.
        average = int(video_bits * target.max_bytes / made.size * 0.9)
        if average < _LOWEST_VIDEO_BITS:
            raise MediaProcessingFailed("The video cannot be made small enough.")
        made = _encode(source, mime, out_path, target, average, "average", timeout_seconds)
    return made


def _video_bit_cap(target: VideoTarget, seconds: float, *, with_audio: bool) -> int | None:
    caps = []
    if target.max_bytes:
        # VBV bounds the bits of any stretch at `maxrate` per second plus one buffer (one
        # second here): a whole clip of T seconds holds at most maxrate x (T + 1).
        budget = target.max_bytes * 8 * _CONTAINER_OVERHEAD
        audio = AUDIO_BITS * seconds if with_audio else 0
        caps.append(int((budget - audio) / (seconds + 1)))
    if target.max_video_bitrate:
        # The same bound read as a rate: over the whole clip, maxrate x (T + 1) / T.
        caps.append(int(target.max_video_bitrate * 0.95 * seconds / (seconds + 1)))
    cap = min(caps, default=_NO_CAP)
    if cap >= _NO_CAP:
        return None  # far above what CRF 23 makes: no bound worth a VBV
    if cap < _LOWEST_VIDEO_BITS:
        raise MediaProcessingFailed("The video cannot be made small enough.")
    return cap


def _encode(
    source: Path,
    mime: str,
    out_path: Path,
    target: VideoTarget,
    video_bits: int | None,
    rate_control: str,
    timeout_seconds: float,
) -> MadeVideo:
    job = {
        "source": str(source),
        "reader": "vips" if mime in ("image/gif", "image/webp") else demuxer_for(mime),
        "out": str(out_path),
        "target": asdict(target),
        "video_bits": video_bits,
        "rate_control": rate_control,
    }
    made = run_child(
        _encode_in_child,
        json.dumps(job),
        timeout_seconds=timeout_seconds,
        memory_bytes=MEMORY_BYTES,
        failure_message="The video could not be converted.",
    )
    return MadeVideo(**made)


# --- in the child -------------------------------------------------------------------------


def _encode_in_child(argv: list[str]) -> dict[str, Any]:
    import av

    job = json.loads(argv[0])
    target = job["target"]
    crop = Box(**target["crop"]) if target["crop"] else None
    with av.open(job["out"], "w", format="mp4", options=MP4_OPTIONS) as out:
        sar = Fraction(1)
        if job["reader"] == "vips":
            items, rate, has_audio = animation_frames(job["source"], plays=target["plays"])
        else:
            items, rate, has_audio, sar = _decoded(
                job["source"], job["reader"], bool(target["audio"])
            )
        fps = output_rate(rate, target["min_fps"], target["max_fps"])
        vout = out.add_stream("libx264", rate=fps)
        # Frame threads, as the ffmpeg CLI gives x264: PyAV's default (slice threads) cuts
        # each picture into slices instead, slower on the same cores.
        vout.thread_type = "AUTO"
        vout.pix_fmt = "yuv420p"
        tag_bt709(vout.codec_context)
        vout.options = dict(_x264_options(fps, job["video_bits"], job["rate_control"]))
        if job["video_bits"] and job["rate_control"] == "average":
            vout.bit_rate = int(job["video_bits"])
        aout = None
        if has_audio:
            aout = out.add_stream("aac", rate=AUDIO_RATE)
            aout.layout = "stereo"
            aout.bit_rate = AUDIO_BITS
        shaping = Shaping(fps, target, crop, sar)
        frames = _encode_items(out, vout, aout, items, shaping)
        if frames == 0:
            raise SystemExit("the video has no decodable frame")
        width, height = vout.width, vout.height
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {**made_facts(job["out"], width, height, fps, frames, "encode"), "peak_memory": peak}


def _x264_options(fps: Fraction, video_bits: int | None, rate_control: str) -> dict[str, object]:
    gop = str(max(1, round(float(fps) * 2)))
    options: dict[str, object] = {
        "preset": "veryfast",
        "profile": "high",
        "g": gop,
        "keyint_min": gop,
    }
    if video_bits is None:
        options["crf"] = "23"
    elif rate_control == "capped":
        options.update(crf="23", maxrate=str(video_bits), bufsize=str(video_bits))
    else:
        options.update(maxrate=str(video_bits), bufsize=str(video_bits * 2))
    return options


def _decoded(
    path: str, demuxer: str, keep_audio: bool
) -> tuple[Iterator[Any], Fraction, bool, Fraction]:
    """A file's decoded pictures and sound as ("video" | "audio", frame), in stored order;
    its rate, whether sound comes, and its pixels' shape (anamorphic video's are wide)."""
    src = open_input(path, demuxer)
    vin = src.streams.video[0]
    vin.thread_type = decoder_threads(vin.codec_context.width, vin.codec_context.height)
    ain = next(iter(src.streams.audio), None) if keep_audio else None
    rate = Fraction(vin.average_rate or vin.guessed_rate or 30)
    stored_sar = vin.codec_context.sample_aspect_ratio
    sar = Fraction(1)
    if stored_sar and stored_sar.numerator > 0 and stored_sar.denominator > 0:
        sar = Fraction(stored_sar.numerator, stored_sar.denominator)

    def items() -> Iterator[tuple[str, Any]]:
        try:
            streams = [vin] if ain is None else [vin, ain]
            for packet in src.demux(*streams):
                for frame in packet.decode():
                    yield ("video" if packet.stream is vin else "audio"), frame
        finally:
            src.close()

    return items(), rate, ain is not None, sar


def _encode_items(
    out: Any,
    vout: Any,
    aout: Any,
    items: Iterator[tuple[str, Any]],
    shaping: Shaping,
) -> int:
    """Filter and encode every picture, resample and encode the sound; frames made."""
    import av

    frames = samples = 0
    held: list[Any] = []  # sound before the first picture: the muxer waits for its size
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=AUDIO_RATE)

    def picture_out(picture: Any) -> None:
        nonlocal frames
        picture.pict_type = av.video.frame.PictureType.NONE
        frames += 1
        out.mux(vout.encode(picture))
        for packets in held:
            out.mux(packets)
        held.clear()

    def sound_out(frame: Any) -> None:
        nonlocal samples
        for chunk in resampler.resample(frame):
            chunk.pts, chunk.time_base = samples, Fraction(1, AUDIO_RATE)
            samples += chunk.samples
            encoded = aout.encode(chunk)
            if frames == 0:
                held.append(encoded)
            else:
                out.mux(encoded)

    for kind, frame in _ahead(_filtered(items, shaping, vout), depth=8):
        if kind == "audio":
            sound_out(frame)
        else:
            picture_out(frame)
    if frames == 0:
        return 0
    out.mux(vout.encode(None))
    if aout is not None:
        sound_out(None)
        out.mux(aout.encode(None))
    return frames


def _filtered(
    items: Iterator[tuple[str, Any]], shaping: Shaping, vout: Any
) -> Iterator[tuple[str, Any]]:
    """The decoded items with every picture through the filter graph, in order."""
    import av

    graph: Any = None

    def pulled() -> Iterator[tuple[str, Any]]:
        while True:
            try:
                yield "video", graph.pull()
            except (av.error.BlockingIOError, av.error.EOFError):
                return

    for kind, frame in items:
        if kind == "audio":
            yield kind, frame
            continue
        if graph is None:
            graph = video_graph(frame, shaping, vout)
        graph.push(frame)
        yield from pulled()
    if graph is not None:
        graph.push(None)
        yield from pulled()


def decoder_threads(width: int | None, height: int | None) -> str:
    """How the decoder uses the cores: frame threads (several pictures decoded at once,
    as the ffmpeg CLI does) up to UHD; above it slices only, since every picture in
    flight has its own buffers: an 8192x8192 clip (100 MB a picture) peaked at 782 MB in
    the encoding child with frame threads, 426 MB with slices (its decode 20 % slower)."""
    return "AUTO" if (width or 0) * (height or 0) <= _FRAME_THREADS_UP_TO else "SLICE"


def _ahead(source: Iterator[_Item], *, depth: int) -> Iterator[_Item]:
    """`source` run in a thread of its own, at most `depth` items ahead: decoding and
    filtering go on while x264 encodes (PyAV lets go of the GIL inside FFmpeg), as the
    `ffmpeg` CLI pipelines them. 1080p HDR to SDR: 8.0 s one after the other, 6.7 s so."""
    ahead: queue.Queue[tuple[bool, Any]] = queue.Queue(depth)

    def produce() -> None:
        try:
            for item in source:
                ahead.put((True, item))
            ahead.put((False, None))
        except BaseException as exc:  # the encoding side raises it as its own
            ahead.put((False, exc))

    # A daemon: if encoding fails, the child exits and takes the blocked producer with it.
    threading.Thread(target=produce, name="decode-filter", daemon=True).start()
    while True:
        more, item = ahead.get()
        if not more:
            if item is not None:
                raise item
            return
        yield item


def output_rate(rate: Fraction, least: float | None, most: float | None) -> Fraction:
    """The constant rate a made file plays at: the source's (snapped to a common rate when
    near one), lowered to a network's maximum, raised to the first common rate at or above
    its minimum."""
    rate = _snap(rate)
    if most and float(rate) > most + 1e-6:
        rate = max((r for r in _COMMON_RATES if float(r) <= most + 1e-6), default=Fraction(most))
    if least and float(rate) < least - 1e-6:
        rate = min((r for r in _COMMON_RATES if float(r) >= least - 1e-6), default=Fraction(least))
    return rate


def _snap(rate: Fraction) -> Fraction:
    if rate <= 0:
        return Fraction(30)
    near = min(_COMMON_RATES, key=lambda common: abs(float(common) - float(rate)))
    if abs(float(near) - float(rate)) / float(near) < 0.03:
        return near
    return Fraction(max(1, round(float(rate))))
