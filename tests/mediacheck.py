"""What a made file really is, read back from its bytes by decoding every frame (not from
what the code that made it reports): the check every variant test applies."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import pyvips

from medialib.platforms.rules import MediaRules, catalog
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
    colour: tuple[str, str, str]  # primaries, transfer, matrix ("unknown" when untagged)
    sample_aspect: str  # "1:1" for square pixels (and for none stated)
    video_bitrate: int  # over the whole clip, from the coded pictures' bytes

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
        coded = 0
        for packet in container.demux(video):
            coded += packet.size
            for frame in packet.decode():
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
            colour=_colour_tags(context),
            sample_aspect=_sample_aspect(context),
            video_bitrate=_bits_per_second(coded, times, float(video.average_rate or 0)),
        )


def _bits_per_second(coded: int, times: list[float], rate: float) -> int:
    seconds = (times[-1] - times[0] + 1 / rate) if times and rate else 0
    return int(coded * 8 / seconds) if seconds > 0 else 0


_PRIMARIES = {1: "bt709", 5: "bt470bg", 6: "smpte170m", 9: "bt2020"}
_TRANSFERS = {1: "bt709", 6: "smpte170m", 13: "srgb", 14: "bt2020-10", 16: "pq", 18: "hlg"}
_MATRICES = {1: "bt709", 5: "bt470bg", 6: "smpte170m", 9: "bt2020nc"}


def _colour_tags(context: Any) -> tuple[str, str, str]:
    return (
        _PRIMARIES.get(int(context.color_primaries or 2), "unknown"),
        _TRANSFERS.get(int(context.color_trc or 2), "unknown"),
        _MATRICES.get(int(context.colorspace or 2), "unknown"),
    )


def _sample_aspect(context: Any) -> str:
    sar = context.sample_aspect_ratio
    if not sar or sar.numerator <= 0 or sar.denominator <= 0 or sar == 1:
        return "1:1"
    return f"{sar.numerator}:{sar.denominator}"


def _aspect_breaks(rules: MediaRules, width: int, height: int) -> list[str]:
    """A range's ends are exact; an exact ratio allows one pixel (written here again, apart
    from the product's own check, on purpose: this is the check of it)."""
    low, high = rules.min_aspect, rules.max_aspect
    if low is not None and low == high:
        return [f"aspect {width}x{height} is not {low}"] if abs(width - low * height) > 1 else []
    ratio = width / height
    broken = []
    if low is not None and ratio < low:
        broken.append(f"aspect {ratio:.4f} < {low}")
    if high is not None and ratio > high:
        broken.append(f"aspect {ratio:.4f} > {high}")
    return broken


def _size_breaks(rules: MediaRules, width: int, height: int, size: int) -> list[str]:
    checks = [
        (rules.max_bytes, size, "bytes"),
        (None if "max_width" in rules.soft else rules.max_width, width, "width"),
        (None if "max_height" in rules.soft else rules.max_height, height, "height"),
        (rules.max_pixels, width * height, "pixels"),
        (rules.max_width_plus_height, width + height, "width+height"),
    ]
    broken = [f"{name} {value} > {cap}" for cap, value, name in checks if cap and value > cap]
    for low, value, name in (
        (rules.min_width, width, "width"),
        (rules.min_height, height, "height"),
    ):
        if low and name not in {s.removeprefix("min_") for s in rules.soft} and value < low:
            broken.append(f"{name} {value} < {low}")
    return broken + _aspect_breaks(rules, width, height)


def image_breaks(rules: MediaRules, data: bytes) -> list[str]:
    """Every rule a served still or GIF breaks, read from its decoded bytes."""
    image = pyvips.Image.new_from_buffer(data, "", access="sequential")
    loader = str(image.get("vips-loader"))
    fmt = next(name for name in ("jpeg", "png", "gif", "webp", "heif", "tiff") if name in loader)
    broken = [] if rules.formats is None or fmt in rules.formats else [f"format {fmt}"]
    fields = image.get_fields()
    frames = int(image.get("n-pages")) if "n-pages" in fields else 1
    height = int(image.get("page-height")) if "page-height" in fields else image.height
    if rules.max_frames and "max_frames" not in rules.soft and frames > rules.max_frames:
        broken.append(f"{frames} frames > {rules.max_frames}")
    product = image.width * height * frames
    cap = rules.max_pixels_times_frames
    if cap and "max_pixels_times_frames" not in rules.soft and product > cap:
        broken.append(f"{product} pixels x frames > {cap}")
    return broken + _size_breaks(rules, image.width, height, len(data))


def video_breaks(rules: MediaRules, path: Path) -> list[str]:
    """Every rule a served MP4 breaks, read by decoding every frame."""
    made = clip(path)
    broken = _size_breaks(rules, made.width, made.height, path.stat().st_size)
    if rules.video_codecs and made.codec not in rules.video_codecs:
        broken.append(f"codec {made.codec}")
    if rules.chroma_420 and not made.pix_fmt.startswith(("yuv420p", "yuvj420p")):
        broken.append(f"pixel format {made.pix_fmt}")
    if rules.eight_bit and made.pix_fmt not in ("yuv420p", "yuvj420p"):
        broken.append(f"pixel format {made.pix_fmt}")
    if rules.progressive and made.interlaced:
        broken.append("interlaced")
    if rules.moov_first and not made.moov_first:
        broken.append("moov after mdat")
    if rules.no_edit_lists and made.edit_lists:
        broken.append("edit lists")
    if rules.max_fps and made.rate > rules.max_fps + 0.01:
        broken.append(f"fps {made.rate} > {rules.max_fps}")
    if rules.min_fps and made.rate < rules.min_fps - 0.01:
        broken.append(f"fps {made.rate} < {rules.min_fps}")
    if rules.max_duration_s and made.seconds > rules.max_duration_s + 0.05:
        broken.append(f"{made.seconds:.2f} s > {rules.max_duration_s}")
    if rules.min_duration_s and made.seconds < rules.min_duration_s - 0.01:
        broken.append(f"{made.seconds:.2f} s < {rules.min_duration_s}")
    if rules.audio_codecs and made.audio_codec and made.audio_codec not in rules.audio_codecs:
        broken.append(f"audio codec {made.audio_codec}")
    if rules.max_audio_channels and (made.audio_channels or 0) > rules.max_audio_channels:
        broken.append(f"{made.audio_channels} audio channels")
    if rules.max_audio_sample_rate and (made.audio_rate or 0) > rules.max_audio_sample_rate:
        broken.append(f"audio at {made.audio_rate} Hz")
    if not made.constant_rate:
        broken.append(f"variable frame rate {sorted(made.intervals_ms)}")
    if rules.square_pixels and made.sample_aspect != "1:1":
        broken.append(f"pixels {made.sample_aspect}")
    if rules.max_video_bitrate and made.video_bitrate > rules.max_video_bitrate:
        broken.append(f"video at {made.video_bitrate} b/s > {rules.max_video_bitrate}")
    return broken


def rules_for(network: str, form: str, kind: str) -> MediaRules:
    """The rules a variant was made to: the network's form it was judged in."""
    chosen = next(f for f in catalog().networks[network].forms if f.id == form)
    return chosen.media[kind].rules
