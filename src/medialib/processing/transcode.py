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
source whose streams already comply is remuxed (`remux_mp4`), never re-encoded. Several
files of one source are made from one decode (`encode_mp4_together`; encoding.py).
"""

from __future__ import annotations

import json
import resource
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from medialib.errors import MediaProcessingFailed
from medialib.processing.animation import animation_frames
from medialib.processing.avprobe import decoder_threads, demuxer_for, open_input
from medialib.processing.encoding import AUDIO_BITS, Output, encode_outputs
from medialib.processing.framing import Box
from medialib.processing.remux import MP4_OPTIONS, MadeVideo
from medialib.processing.sandbox import run_child

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

_CONTAINER_OVERHEAD = 0.97  # the share of a byte cap left for the streams themselves
_LOWEST_VIDEO_BITS = 100_000  # below this nothing watchable comes out
_NO_CAP = 200_000_000
MEMORY_BYTES = 3 * 1024 * 1024 * 1024  # x264's lookahead wants more than a decoder
_MEMORY_PER_MORE = 1536 * 1024 * 1024  # each further file made from the same decode


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


@dataclass(frozen=True, slots=True)
class Encoding:
    """One file of several made from one source: where it goes and what it must be."""

    out_path: Path
    target: VideoTarget


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
    made = encode_mp4_together(
        source,
        mime,
        [Encoding(out_path, target)],
        duration_ms=duration_ms,
        timeout_seconds=timeout_seconds,
    )
    return made[0]


def encode_mp4_together(
    source: Path,
    mime: str,
    encodings: list[Encoding],
    *,
    duration_ms: int | None,
    timeout_seconds: float,
) -> list[MadeVideo]:
    """Several MP4s of one video from one decode, in one child (an animation's frames
    depend on each file's plays: one file at a time). Each is then held to its cap alone:
    one still over is made again at an average rate. Raises MediaProcessingFailed when
    any cannot be made (a caller wanting the others makes them one by one)."""
    if mime in ("image/gif", "image/webp") and len(encodings) > 1:
        raise ValueError("an animation's files are made one at a time")
    bits = [video_bits_for(e.target, duration_ms) for e in encodings]
    runs = [(e, b, "capped") for e, b in zip(encodings, bits, strict=True)]
    made = _encode(source, mime, runs, timeout_seconds)
    for index, (encoding, video_bits) in enumerate(zip(encodings, bits, strict=True)):
        cap = encoding.target.max_bytes
        if cap and made[index].size > cap and video_bits:
            # Still over (a short clip's first frames, VBV's slack): once more at an average
            # rate scaled by how far over the first one came out.
            average = int(video_bits * cap / made[index].size * 0.9)
            if average < _LOWEST_VIDEO_BITS:
                raise MediaProcessingFailed("The video cannot be made small enough.")
            (made[index],) = _encode(
                source, mime, [(encoding, average, "average")], timeout_seconds
            )
    return made


def video_bits_for(target: VideoTarget, duration_ms: int | None) -> int | None:
    """The video bit rate a target's caps allow (None: no bound worth a VBV); raises
    MediaProcessingFailed when nothing watchable fits them."""
    seconds = max((duration_ms or 0) / 1000, 0.1) * max(1, target.plays)
    return _video_bit_cap(target, seconds, with_audio=target.audio)


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
    runs: list[tuple[Encoding, int | None, str]],
    timeout_seconds: float,
) -> list[MadeVideo]:
    job = {
        "source": str(source),
        "reader": "vips" if mime in ("image/gif", "image/webp") else demuxer_for(mime),
        "outputs": [
            {
                "out": str(encoding.out_path),
                "target": asdict(encoding.target),
                "video_bits": video_bits,
                "rate_control": rate_control,
            }
            for encoding, video_bits, rate_control in runs
        ],
    }
    more = len(runs) - 1
    made = run_child(
        _encode_in_child,
        json.dumps(job),
        # Each file keeps the time it had alone; the memory grows by more than one more
        # encoder needs (three 1080p files peaked at 678 MB, one alone at 319 MB).
        timeout_seconds=timeout_seconds * len(runs),
        memory_bytes=MEMORY_BYTES + more * _MEMORY_PER_MORE,
        failure_message="The video could not be converted.",
    )
    return [MadeVideo(**facts, peak_memory=made["peak_memory"]) for facts in made["made"]]


# --- in the child -------------------------------------------------------------------------


def _encode_in_child(argv: list[str]) -> dict[str, Any]:
    import av

    job = json.loads(argv[0])
    specs = job["outputs"]
    sar = Fraction(1)
    if job["reader"] == "vips":  # an animation: one file, its plays shape the frames
        items, rate, has_audio = animation_frames(job["source"], plays=specs[0]["target"]["plays"])
    else:
        wants_audio = any(spec["target"]["audio"] for spec in specs)
        items, rate, has_audio, sar = _decoded(job["source"], job["reader"], wants_audio)
    with ExitStack() as stack:
        outputs = [
            Output(
                stack.enter_context(av.open(spec["out"], "w", format="mp4", options=MP4_OPTIONS)),
                spec,
                rate,
                has_audio,
                sar,
            )
            for spec in specs
        ]
        encode_outputs(outputs, items)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"made": [output.facts() for output in outputs], "peak_memory": peak}


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
