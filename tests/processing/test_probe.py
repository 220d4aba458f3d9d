"""Header reads and the sandboxed FFmpeg probe on real files."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from medialib.errors import ImageTooLarge, MediaProcessingFailed
from medialib.processing import avprobe, images


def test_image_header_applies_exif_orientation(files: Path) -> None:
    header = images.read_header(files / "rotated.jpg", max_pixels=10**8)
    assert (header.width, header.height, header.orientation) == (48, 64, 6)


def _peak_rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def test_pixel_bomb_is_refused_from_the_header_without_decoding(files: Path) -> None:
    """50,000 x 50,000 RGB would be 7.5 GB decoded: refused from the header alone."""
    Path("/proc/self/clear_refs").write_text("5")  # reset this process's peak RSS
    before = _peak_rss()
    started = time.monotonic()
    with pytest.raises(ImageTooLarge) as raised:
        images.read_header(files / "bomb.png", max_pixels=100_000_000)
    assert raised.value.details["width"] == 50_000
    assert time.monotonic() - started < 5  # generous; it is ~milliseconds
    assert _peak_rss() - before < 20 * 1024 * 1024


def test_heif_bomb_is_refused_before_decoding(tmp_path: Path, files: Path) -> None:
    with pytest.raises(ImageTooLarge):
        images.heif_to_jpeg(files / "photo.heic", tmp_path, max_pixels=1000)


def test_untrusted_loaders_are_blocked(tmp_path: Path) -> None:
    svg = tmp_path / "x.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')
    with pytest.raises(MediaProcessingFailed):
        images.read_header(svg, max_pixels=10**8)


def test_probe_reads_codecs_duration_and_audio(files: Path) -> None:
    facts = avprobe.probe(files / "clip.mp4", "video/mp4", timeout_seconds=30)
    assert facts["codec"] == "h264" and facts["audio_codec"] == "aac"
    assert (facts["width"], facts["height"], facts["aspect_ratio"]) == (160, 120, "4:3")
    assert facts["has_audio"] is True and 900 <= facts["duration_ms"] <= 1200


def test_probe_forces_the_demuxer_of_the_sniffed_type(files: Path) -> None:
    """A playlist can never be opened: only the sniffed type's demuxer is allowed."""
    with pytest.raises(MediaProcessingFailed):
        avprobe.probe(files / "playlist.m3u8", "video/mp4", timeout_seconds=30)


def test_probe_of_a_truncated_file_fails_cleanly(files: Path) -> None:
    with pytest.raises(MediaProcessingFailed) as raised:
        avprobe.probe(files / "truncated.mp4", "video/mp4", timeout_seconds=30)
    assert raised.value.details["reason"]


def test_probe_of_an_unknown_type_is_refused(files: Path) -> None:
    with pytest.raises(MediaProcessingFailed):
        avprobe.probe(files / "doc.pdf", "application/pdf", timeout_seconds=30)
