"""Header reads and the sandboxed FFmpeg probe on real files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from medialib.errors import ImageTooLarge, MediaProcessingFailed
from medialib.processing import avprobe, images


def test_image_header_applies_exif_orientation(files: Path) -> None:
    header = images.read_header(files / "rotated.jpg", max_pixels=10**8)
    assert (header.width, header.height, header.orientation) == (48, 64, 6)


def test_pixel_bomb_is_refused_from_the_header_without_decoding(files: Path) -> None:
    """50,000 x 50,000 RGB would be 7.5 GB decoded: refused from the header alone, fast and
    without memory growth (measured in a fresh interpreter, away from this process's
    worker threads)."""
    script = (
        "import sys, time; from pathlib import Path\n"
        "from medialib.errors import ImageTooLarge\n"
        "from medialib.processing import images\n"
        "images.vips()\n"
        "status = lambda: open('/proc/self/status').read().splitlines()\n"
        "rss = lambda f: int([x for x in status() if x.startswith(f)][0].split()[1])\n"
        "before = rss('VmRSS'); started = time.monotonic()\n"
        "try:\n"
        "    images.read_header(Path(sys.argv[1]), max_pixels=100_000_000)\n"
        "except ImageTooLarge as exc:\n"
        "    growth = (rss('VmHWM') - before) * 1024\n"
        "    print(exc.details['width'], time.monotonic() - started, growth)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(files / "bomb.png")],
        capture_output=True,
        text=True,
        check=True,
    )
    width, seconds, growth = done.stdout.split()
    assert int(width) == 50_000
    assert float(seconds) < 5  # generous; it is ~milliseconds
    assert int(growth) < 20 * 1024 * 1024


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


@pytest.mark.parametrize(
    ("codec", "container", "expected"),
    [("libmp3lame", "mp3", "mp3"), ("aac", "ipod", "aac"), ("libopus", "ogg", "opus")],
)
def test_codecs_are_named_as_people_know_them_not_by_decoder(
    tmp_path: Path, codec: str, container: str, expected: str
) -> None:
    """FFmpeg decodes MP3 with `mp3float`: the facts still say mp3."""
    from tests import mediafiles

    path = mediafiles.audio(tmp_path / f"tone.{container}", codec=codec, container=container)
    mime = {"mp3": "audio/mpeg", "ipod": "audio/mp4", "ogg": "audio/ogg"}[container]
    assert avprobe.probe(path, mime, timeout_seconds=30)["audio_codec"] == expected
