"""Probe audio/video files with FFmpeg (through PyAV) in a bounded child process.

The child reads one local file with the `file` protocol only and the demuxer named by the
sniffed type (a demuxer allow-list: no HLS, concat or playlists), under CPU, memory and
wall-clock limits, and prints JSON. A hostile file can crash or hang only the child.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any

from medialib.errors import MediaProcessingFailed
from medialib.processing.mp4layout import read_layout
from medialib.processing.sandbox import run_child

if TYPE_CHECKING:
    from pathlib import Path

# The sniffed type decides the one demuxer FFmpeg may use (the demuxer allow-list), and
# the container name reported (FFmpeg's "mov" demuxer reads MP4 too).
_FORMATS: dict[str, tuple[str, str]] = {
    "video/mp4": ("mov", "mp4"),
    "video/quicktime": ("mov", "mov"),
    "audio/mp4": ("mov", "m4a"),
    "video/webm": ("matroska", "webm"),
    "audio/webm": ("matroska", "webm"),
    "video/x-matroska": ("matroska", "mkv"),
    "video/x-msvideo": ("avi", "avi"),
    "audio/mpeg": ("mp3", "mp3"),
    "audio/aac": ("aac", "aac"),
    "audio/wav": ("wav", "wav"),
    "audio/ogg": ("ogg", "ogg"),
    "audio/flac": ("flac", "flac"),
}


def probe(path: Path, mime: str, *, timeout_seconds: float) -> dict[str, Any]:
    """Container, codecs, duration and display dimensions of a local media file."""
    if mime not in _FORMATS:
        raise MediaProcessingFailed(f"No probe for {mime}.")
    demuxer, container = _FORMATS[mime]
    result = run_child(
        _probe_in_child,
        str(path),
        demuxer,
        timeout_seconds=timeout_seconds,
        failure_message="The file could not be read as audio or video.",
    )
    result["container"] = container
    if demuxer == "mov":
        layout = read_layout(path)
        result["moov_first"] = layout.moov_first if layout else None
        result["edit_lists"] = layout.edit_lists if layout else None
    return result


_FRAME_THREADS_UP_TO = 3840 * 2160  # pixels of a picture decoded with frame threads


def demuxer_for(mime: str) -> str:
    if mime not in _FORMATS:
        raise MediaProcessingFailed(f"No demuxer for {mime}.")
    return _FORMATS[mime][0]


def open_input(path: str, demuxer: str) -> Any:
    """Open a local file with exactly one demuxer and the `file` protocol only."""
    import av

    options = {"protocol_whitelist": "file", "format_whitelist": demuxer}
    return av.open(path, mode="r", format=demuxer, options=options)


def decoder_threads(width: int | None, height: int | None) -> str:
    """How a decoder uses the cores: frame threads (several pictures decoded at once,
    as the ffmpeg CLI does) up to UHD; above it slices only, since every picture in
    flight has its own buffers: an 8192x8192 clip (100 MB a picture) peaked at 782 MB in
    the encoding child with frame threads, 426 MB with slices (its decode 20 % slower)."""
    return "AUTO" if (width or 0) * (height or 0) <= _FRAME_THREADS_UP_TO else "SLICE"


def _probe_in_child(argv: list[str]) -> dict[str, Any]:
    path, demuxer = argv
    with open_input(path, demuxer) as container:
        video = next(iter(container.streams.video), None)
        audio = next(iter(container.streams.audio), None)
        duration_ms = _duration_ms(container, video or audio)
        facts: dict[str, Any] = {
            "container": container.format.name,
            "duration_ms": duration_ms,
            "bitrate": int(container.bit_rate) if container.bit_rate else None,
            "has_audio": audio is not None,
            "has_video": video is not None,
        }
        if audio is not None:
            facts.update(_audio_facts(audio))
        if video is not None:
            facts.update(_video_facts(container, video))
        return facts


def _duration_ms(container: Any, stream: Any) -> int | None:
    if container.duration:
        return int(container.duration // 1000)  # container.duration is in AV_TIME_BASE (µs)
    if stream is not None and stream.duration and stream.time_base:
        return int(stream.duration * stream.time_base * 1000)
    return None


def _video_facts(container: Any, video: Any) -> dict[str, Any]:
    width, height = int(video.codec_context.width), int(video.codec_context.height)
    rotation, interlaced = 0, False
    # Rotation is a property of decoded frames (display matrix side data), not of the stream.
    for frame in container.decode(video):
        rotation = int(getattr(frame, "rotation", 0) or 0) % 360
        interlaced = bool(frame.interlaced_frame)
        width, height = int(frame.width), int(frame.height)
        break
    context = video.codec_context
    stored_width = width
    sar = _sample_aspect(context)
    if sar != 1:  # anamorphic: stored 1440x1080, shown 1920x1080 (judged as it is shown)
        width = max(2, round(width * sar))
    if rotation in (90, 270):
        width, height = height, width
    rate = video.average_rate or video.guessed_rate
    return {
        "codec": codec_name(context),
        "pix_fmt": context.pix_fmt,
        **_colour_facts(context),
        "sample_aspect_ratio": f"{sar.numerator}:{sar.denominator}" if sar != 1 else None,
        "stored_width": stored_width if sar != 1 else None,
        # FFmpeg's field order: 1 is progressive, 2-5 are the interlaced orders, 0 unknown.
        "interlaced": bool(interlaced) or context.field_order in (2, 3, 4, 5),
        "video_bitrate": int(video.bit_rate) if video.bit_rate else None,
        "width": width,
        "height": height,
        "rotation": rotation,
        "fps": round(float(rate), 3) if rate else None,
        "aspect_ratio": _aspect(width, height),
    }


# FFmpeg's colour enums (AVColorTransferCharacteristic, AVColorPrimaries), by the names
# people and files use.
TRANSFERS = {1: "bt709", 4: "bt470m", 5: "bt470bg", 6: "smpte170m", 8: "linear",
             13: "srgb", 14: "bt2020-10", 15: "bt2020-12", 16: "pq", 18: "hlg"}  # fmt: skip
PRIMARIES = {1: "bt709", 5: "bt470bg", 6: "smpte170m", 9: "bt2020", 11: "dci-p3", 12: "p3-d65"}
HDR_TRANSFERS = {16: "pq", 18: "hlg"}


def _colour_facts(context: Any) -> dict[str, Any]:
    """What the pictures' colour is: its transfer and primaries, bit depth, and whether it
    is HDR (PQ: HDR10 and Dolby Vision's base layer; HLG)."""
    depth = 10 if "10" in str(context.pix_fmt) else 12 if "12" in str(context.pix_fmt) else 8
    return {
        "color_transfer": TRANSFERS.get(int(context.color_trc or 2)),
        "color_primaries": PRIMARIES.get(int(context.color_primaries or 2)),
        "bit_depth": depth,
        "hdr": HDR_TRANSFERS.get(int(context.color_trc or 2)),
    }


def _sample_aspect(context: Any) -> Fraction:
    sar = context.sample_aspect_ratio
    if not sar or sar.numerator <= 0 or sar.denominator <= 0:
        return Fraction(1)
    return Fraction(sar.numerator, sar.denominator)


def _audio_facts(audio: Any) -> dict[str, Any]:
    context = audio.codec_context
    return {
        "audio_codec": codec_name(context),
        "audio_profile": context.profile,  # AAC: "LC", "HE-AAC", ...
        "audio_channels": context.channels,
        "audio_sample_rate": context.sample_rate,
        "audio_bitrate": int(audio.bit_rate) if audio.bit_rate else None,
    }


def codec_name(context: Any) -> str:
    """The codec's name (mp3), not its decoder's (mp3float): what people and rules know."""
    return str(context.codec.canonical_name or context.name)


def _aspect(width: int, height: int) -> str | None:
    from fractions import Fraction  # here: the child that grabs frames need not import it

    if not width or not height:
        return None
    ratio = Fraction(width, height)
    return f"{ratio.numerator}:{ratio.denominator}"
