"""MP4 variants made by FFmpeg (through PyAV), each read back from its bytes: the box
layout Meta checks, a constant rate whose frames follow the source's clock, progressive
4:2:0 High profile with AAC-LC stereo, the byte cap met in one encode, and a remux that
keeps every coded byte."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import av
import pytest

from medialib.processing import avprobe, frames, remux, transcode
from medialib.processing.framing import Box
from medialib.processing.mp4layout import read_layout
from medialib.processing.transcode import VideoTarget
from tests import mediacheck, mediafiles

_LIMIT = 120.0


def _encode(source: Path, mime: str, target: VideoTarget, duration_ms: int) -> Path:
    out = source.with_name(source.name + ".out.mp4")
    made = transcode.encode_mp4(
        source, mime, out, target, duration_ms=duration_ms, timeout_seconds=_LIMIT
    )
    assert made.size == out.stat().st_size and made.method == "encode"
    return out


def test_the_layout_reader_sees_what_ffmpeg_wrote(tmp_path: Path) -> None:
    plain = mediafiles.ffmpeg_clip(tmp_path / "plain.mp4", "-c:v", "libx264", "-c:a", "aac")
    fixed = mediafiles.ffmpeg_clip(
        tmp_path / "fixed.mp4",
        *("-c:v", "libx264", "-c:a", "aac", "-movflags", "+faststart", "-use_editlist", "0"),
    )
    assert read_layout(plain) == transcode_layout(moov_first=False, edit_lists=True)
    assert read_layout(fixed) == transcode_layout(moov_first=True, edit_lists=False)
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00\x00\x00\x10ftypisom" + b"\xff" * 64)
    assert read_layout(junk) is None


def transcode_layout(*, moov_first: bool, edit_lists: bool) -> object:
    from medialib.processing.mp4layout import Mp4Layout

    return Mp4Layout(moov_first=moov_first, edit_lists=edit_lists)


Source = Callable[[Path], tuple[Path, str, float]]

SOURCES: dict[str, Source] = {
    "h264-mp4": lambda d: (mediafiles.video(d / "a.mp4", seconds=2, fps=25), "video/mp4", 2.0),
    "vp9-webm": lambda d: (
        mediafiles.video(d / "a.webm", seconds=2, container="webm", codec="libvpx-vp9"),
        "video/webm",
        2.0,
    ),
    "variable-rate-webm": lambda d: (
        mediafiles.variable_rate_webm(d / "vfr.webm", seconds=3),
        "video/webm",
        3.0,
    ),
    "interlaced": lambda d: (
        mediafiles.ffmpeg_clip(
            d / "i.mp4",
            *("-vf", "tinterlace=interleave_top,fieldorder=tff", "-flags", "+ilme+ildct"),
            *("-c:v", "libx264", "-x264opts", "tff=1", "-c:a", "aac"),
            seconds=2,
        ),
        "video/mp4",
        2.0,
    ),
    "yuv444-mov": lambda d: (
        mediafiles.ffmpeg_clip(
            d / "c.mov", "-c:v", "libx264", "-pix_fmt", "yuv444p", "-c:a", "aac", seconds=2
        ),
        "video/quicktime",
        2.0,
    ),
}


@pytest.mark.parametrize("name", list(SOURCES))
def test_every_encode_is_intact_and_keeps_the_sources_timing(name: str, tmp_path: Path) -> None:
    source, mime, seconds = SOURCES[name](tmp_path)
    out = _encode(source, mime, VideoTarget(max_fps=60), int(seconds * 1000))
    made = mediacheck.clip(out)
    assert (made.moov_first, made.edit_lists) == (True, False)
    assert (made.codec, made.profile, made.pix_fmt) == ("h264", "High", "yuv420p")
    assert not made.interlaced and made.constant_rate
    # Every moment of the source is there, at its own pace: no frames lost, none sped up.
    assert made.seconds == pytest.approx(seconds, abs=1.5 / made.rate)
    assert made.frames == pytest.approx(seconds * made.rate, abs=1.5)
    if made.audio_codec is not None:
        assert (made.audio_codec, made.audio_profile) == ("aac", "LC")
        assert (made.audio_channels, made.audio_rate) == (2, 48_000)


def test_the_frame_rate_is_raised_to_a_minimum_and_lowered_to_a_maximum(tmp_path: Path) -> None:
    slow = mediafiles.ffmpeg_clip(tmp_path / "slow.mp4", "-c:v", "libx264", seconds=2, rate=15)
    fast = mediafiles.ffmpeg_clip(tmp_path / "fast.mp4", "-c:v", "libx264", seconds=2, rate=120)
    raised = mediacheck.clip(_encode(slow, "video/mp4", VideoTarget(min_fps=23), 2000))
    lowered = mediacheck.clip(_encode(fast, "video/mp4", VideoTarget(max_fps=30), 2000))
    assert raised.rate == pytest.approx(24000 / 1001, abs=0.01)
    assert lowered.rate == pytest.approx(30)
    for made in (raised, lowered):
        assert made.constant_rate
        assert made.seconds == pytest.approx(2.0, abs=1.5 / made.rate)


@pytest.mark.parametrize("suffix", ["gif", "webp"])
def test_an_animation_becomes_a_video_of_the_same_length(suffix: str, tmp_path: Path) -> None:
    animation = mediafiles.animation(tmp_path / f"a.{suffix}", frames=12, delay_ms=125)
    out = _encode(animation, f"image/{suffix}", VideoTarget(min_fps=23, audio=False), 1500)
    made = mediacheck.clip(out)
    assert made.audio_codec is None and made.constant_rate
    assert made.rate >= 23 and made.seconds == pytest.approx(1.5, abs=1.5 / made.rate)
    with av.open(str(out)) as container:  # it moves: the pictures are not one still
        lumas = {bytes(frame.planes[0])[:64] for frame in container.decode(video=0)}
    assert len(lumas) >= 12


def test_a_byte_cap_is_met_with_one_encode(tmp_path: Path) -> None:
    busy = mediafiles.ffmpeg_clip(
        tmp_path / "busy.mp4", "-c:v", "libx264", "-crf", "10", seconds=4, size="640x480"
    )
    unbounded = _encode(busy, "video/mp4", VideoTarget(), 4000).stat().st_size
    cap = unbounded // 3
    out = tmp_path / "capped.mp4"
    made = transcode.encode_mp4(
        busy, "video/mp4", out, VideoTarget(max_bytes=cap), duration_ms=4000, timeout_seconds=_LIMIT
    )
    assert out.stat().st_size <= cap and made.size == out.stat().st_size
    assert mediacheck.clip(out).seconds == pytest.approx(4.0, abs=0.1)


def test_a_crop_box_is_cut_from_the_upright_picture(tmp_path: Path) -> None:
    source = mediafiles.video(tmp_path / "wide.mp4", seconds=1, width=320, height=180)
    target = VideoTarget(crop=Box(left=70, top=0, width=180, height=180), max_width=120)
    made = mediacheck.clip(_encode(source, "video/mp4", target, 1000))
    assert (made.width, made.height) == (120, 120)


def test_a_rotated_phone_clip_comes_out_upright(tmp_path: Path) -> None:
    landscape = mediafiles.video(tmp_path / "l.mp4", seconds=1, width=320, height=240)
    turned = mediafiles.rotated(landscape, tmp_path / "r.mp4", degrees=90)
    made = mediacheck.clip(_encode(turned, "video/mp4", VideoTarget(), 1000))
    assert (made.width, made.height) == (240, 320)


def test_a_remux_keeps_every_coded_byte_and_fixes_the_layout(tmp_path: Path) -> None:
    source = mediafiles.ffmpeg_clip(tmp_path / "s.mov", "-c:v", "libx264", "-c:a", "aac")
    out = tmp_path / "remuxed.mp4"
    made = remux.remux_mp4(source, "video/quicktime", out, timeout_seconds=_LIMIT)
    assert made.method == "remux" and made.size == out.stat().st_size
    layout = read_layout(out)
    assert layout is not None and (layout.moov_first, layout.edit_lists) == (True, False)

    def video_packets(path: Path) -> list[bytes]:
        with av.open(str(path)) as container:
            return [bytes(p) for p in container.demux(video=0) if p.size]

    assert video_packets(out) == video_packets(source)


def _middle_rgb(path: Path) -> tuple[int, int, int]:
    """The middle pixel of the first picture, as a BT.709 player shows it."""
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
    rgb = frame.reformat(format="rgb24", src_colorspace="ITU709")
    plane, stride = bytes(rgb.planes[0]), rgb.planes[0].line_size
    at = (frame.height // 2) * stride + (frame.width // 2) * 3
    red, green, blue = plane[at : at + 3]
    return red, green, blue


@pytest.mark.parametrize("transfer", ["pq", "hlg"])
def test_an_hdr_clip_is_tone_mapped_to_sdr_and_says_so(transfer: str, tmp_path: Path) -> None:
    """A phone's HDR10 or HLG red comes out red, not brown (squeezing PQ as if it were SDR
    gives about (120, 72, 42)), and the H.264 says BT.709."""
    source = mediafiles.hdr_clip(tmp_path / f"{transfer}.mp4", transfer, colour="0xC02010")
    made_path = _encode(source, "video/mp4", VideoTarget(max_width=160), 1000)
    made = mediacheck.clip(made_path)
    assert (made.codec, made.pix_fmt) == ("h264", "yuv420p")
    assert made.colour == ("bt709", "bt709", "bt709")
    red, green, blue = _middle_rgb(made_path)
    assert red > 150 and red > 2.5 * green and red > 3 * blue, (red, green, blue)


@pytest.mark.parametrize(
    ("name", "arguments", "size"),
    [
        ("untagged", ("-c:v", "libx264"), "320x240"),
        ("bt601", ("-c:v", "libx264", "-colorspace", "smpte170m", "-color_primaries",
                   "smpte170m", "-color_trc", "smpte170m"), "320x240"),
        ("full range", ("-c:v", "libx264", "-pix_fmt", "yuvj420p"), "1280x720"),
    ],
)  # fmt: skip
def test_every_encode_tags_its_colour_whatever_the_source_said(
    name: str, arguments: tuple[str, ...], size: str, tmp_path: Path
) -> None:
    source = mediafiles.ffmpeg_clip(tmp_path / "s.mp4", *arguments, size=size, seconds=0.5)
    made = mediacheck.clip(_encode(source, "video/mp4", VideoTarget(max_width=320), 500))
    assert made.colour == ("bt709", "bt709", "bt709"), name


def test_an_anamorphic_clip_is_made_with_square_pixels_at_its_shown_size(tmp_path: Path) -> None:
    """A PAL widescreen clip (stored 720x576, pixels 64:45) is shown 1024x576: made so."""
    source = mediafiles.ffmpeg_clip(
        tmp_path / "pal.mp4", "-vf", "setsar=64/45", "-c:v", "libx264", size="720x576"
    )
    made = mediacheck.clip(_encode(source, "video/mp4", VideoTarget(), 1000))
    assert (made.width, made.height, made.sample_aspect) == (1024, 576, "1:1")
    cropped = _encode(
        source, "video/mp4", VideoTarget(crop=Box(left=224, top=0, width=576, height=576)), 1000
    )
    square = mediacheck.clip(cropped)
    assert (square.width, square.height, square.sample_aspect) == (576, 576, "1:1")


def test_a_bit_rate_cap_holds_over_the_whole_clip(tmp_path: Path) -> None:
    busy = mediafiles.ffmpeg_clip(
        tmp_path / "busy.mp4", "-c:v", "libx264", "-crf", "8", seconds=1, size="640x480"
    )
    cap = 900_000  # a short clip is where VBV's one-second buffer shows most
    made = mediacheck.clip(
        _encode(busy, "video/mp4", VideoTarget(max_video_bitrate=cap, audio=False), 1000)
    )
    assert made.video_bitrate <= cap, made.video_bitrate


def test_a_remux_keeps_hdr_and_names_its_codec(tmp_path: Path) -> None:
    source = mediafiles.hdr_clip(tmp_path / "hdr.mp4", "pq")
    out = tmp_path / "remuxed.mp4"
    made = remux.remux_mp4(source, "video/mp4", out, timeout_seconds=_LIMIT)
    kept = mediacheck.clip(out)
    assert made.codec == "hevc" and kept.codec == "hevc"
    assert kept.colour == ("bt2020", "pq", "bt2020nc") and kept.pix_fmt == "yuv420p10le"


def test_a_huge_picture_is_decoded_without_frame_threads(tmp_path: Path) -> None:
    """Memory is bounded by what one picture needs, not by how many pictures the decoder
    keeps in flight: an 8192x8192 clip (100 MB a picture) is decoded by slices, for a
    variant and for a cover frame alike (frame threads each held a picture of their own:
    the encoding child peaked at 782 MB, 426 now; the cover frame's at 746, 344 now)."""
    huge = mediafiles.ffmpeg_clip(
        tmp_path / "huge.mp4",
        *("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"),
        seconds=1,
        size="8192x8192",
        rate=5,
    )
    out = tmp_path / "fitted.mp4"
    box = VideoTarget(max_width=1920, max_height=1920)
    made = transcode.encode_mp4(
        huge, "video/mp4", out, box, duration_ms=1000, timeout_seconds=_LIMIT
    )
    assert (made.width, made.height) == (1920, 1920)
    assert made.peak_memory is not None and made.peak_memory < 640 * 1024 * 1024
    cover = frames.extract_frame(
        huge,
        "video/mp4",
        at_ms=600,
        out_path=tmp_path / "cover.jpg",
        max_side=640,
        timeout_seconds=_LIMIT,
    )
    assert cover["width"] == 640 and cover["peak_memory"] < 560 * 1024 * 1024
    assert avprobe.decoder_threads(3840, 2160) == "AUTO"  # a UHD phone clip keeps them


def test_several_files_from_one_decode_are_each_what_their_target_asks(tmp_path: Path) -> None:
    """One child, one decode: each file has its own box, rate, sound or none, and cap."""
    source = mediafiles.ffmpeg_clip(
        tmp_path / "source.mp4", "-c:v", "libx264", "-crf", "12", seconds=2, size="640x480"
    )
    targets = [
        VideoTarget(max_width=320),
        VideoTarget(max_fps=15.0, audio=False),
        VideoTarget(max_bytes=120_000),
    ]
    encodings = [transcode.Encoding(tmp_path / f"{n}.mp4", t) for n, t in enumerate(targets)]
    made = transcode.encode_mp4_together(
        source, "video/mp4", encodings, duration_ms=2000, timeout_seconds=_LIMIT
    )
    assert len({video.peak_memory for video in made}) == 1  # the same process made them all
    clips = [mediacheck.clip(encoding.out_path) for encoding in encodings]
    assert all(c.seconds == pytest.approx(2.0, abs=0.1) for c in clips)
    assert (made[0].width, made[0].fps) == (320, 30.0) and clips[0].audio_codec == "aac"
    assert (made[1].width, made[1].fps) == (640, 15.0) and clips[1].audio_codec is None
    assert made[2].size == encodings[2].out_path.stat().st_size <= 120_000
