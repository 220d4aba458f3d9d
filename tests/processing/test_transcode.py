"""MP4 variants made by FFmpeg (through PyAV), each read back from its bytes: the box
layout Meta checks, a constant rate whose frames follow the source's clock, progressive
4:2:0 High profile with AAC-LC stereo, the byte cap met in one encode, and a remux that
keeps every coded byte."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import av
import pytest

from medialib.processing import remux, transcode
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
