"""A generated corpus of edge files through the whole service: each is uploaded over HTTP,
its variants made, and every variant re-probed from its served bytes against the rules
of the network and form it was made for (tests/mediacheck.py). For every file: each
amber network has a variant, no two variants are the same bytes, and every variant is
intact (an MP4 with `moov` first, no edit lists, a constant rate, its whole duration)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import pyvips

from tests import mediafiles
from tests.helpers import upload_file, wait_settled, wait_variants
from tests.mediacheck import clip, image_breaks, rules_for, video_breaks


def _image(width: int, height: int, suffix: str, **save: Any) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / f"edge-{width}x{height}.{suffix}"
        noise = pyvips.Image.gaussnoise(width, height, mean=128, sigma=40)
        rgb = noise.bandjoin([noise.rot180() if width == height else noise, noise]).cast("uchar")
        rgb.copy(interpretation="srgb").write_to_file(str(path), **save)
        return path

    return make


def _cmyk(folder: Path) -> Path:
    path = folder / "print.jpg"
    rgb = (pyvips.Image.black(800, 600, bands=3) + [200, 40, 90]).cast("uchar")  # noqa: RUF005
    rgb.copy(interpretation="srgb").colourspace("cmyk").jpegsave(str(path))
    return path


def _clip(name: str, *arguments: str, size: str = "320x240", rate: float = 30) -> Callable:
    def make(folder: Path) -> Path:
        return mediafiles.ffmpeg_clip(folder / name, *arguments, seconds=2.0, size=size, rate=rate)

    return make


CORPUS: dict[str, Callable[[Path], Path]] = {
    "panorama 25:1": _image(2500, 100, "jpg", Q=90),
    "tower 1:25": _image(100, 2500, "png"),
    "phone portrait 3:4": _image(1500, 2000, "jpg", Q=95),
    "cmyk jpeg": _cmyk,
    "animated webp": lambda f: mediafiles.animation(f / "loop.webp", width=96, height=96),
    "animated gif": lambda f: mediafiles.animation(f / "loop.gif", width=96, height=96),
    "one-frame gif": lambda f: mediafiles.gif(f / "still.gif", 64, 64, frames=1),
    "1 s gif": lambda f: mediafiles.animation(f / "blink.gif", width=96, height=96, frames=10),
    "300-frame gif": lambda f: mediafiles.animation(
        f / "long.gif", width=48, height=48, frames=300, delay_ms=40
    ),
    "heic": lambda f: mediafiles.heic(f / "photo.heic", 640, 480),
    "apng": lambda f: mediafiles.apng(f / "spinner.png", size="640x480"),
    "15 fps": _clip("slow.mp4", "-c:v", "libx264", "-b:v", "600k", "-c:a", "aac", rate=15),
    "120 fps": _clip("fast.mp4", "-c:v", "libx264", "-b:v", "600k", "-c:a", "aac", rate=120),
    "4:4:4": _clip("chroma.mp4", "-c:v", "libx264", "-pix_fmt", "yuv444p", "-b:v", "600k"),
    "interlaced": _clip(
        "tv.mp4",
        *("-vf", "tinterlace=interleave_top,fieldorder=tff", "-flags", "+ilme+ildct"),
        *("-c:v", "libx264", "-x264opts", "tff=1", "-b:v", "600k", "-c:a", "aac"),
    ),
    "moov last mov": _clip("late.mov", "-c:v", "libx264", "-b:v", "600k", "-c:a", "aac"),
    "tall 1:3": _clip("tall.mp4", "-c:v", "libx264", "-b:v", "600k", size="200x600"),
    "wide 3:1": _clip("wide.mp4", "-c:v", "libx264", "-b:v", "600k", size="600x200"),
    "variable rate webm": lambda f: mediafiles.variable_rate_webm(f / "screen.webm", seconds=2.0),
    "5.1 audio": _clip(
        "surround.mp4", "-c:v", "libx264", "-b:v", "600k", "-c:a", "aac", "-ac", "6"
    ),
    "hdr10 hevc": lambda f: mediafiles.hdr_clip(f / "hdr10.mov", "pq", seconds=2.0),
    "hlg hevc": lambda f: mediafiles.hdr_clip(f / "hlg.mp4", "hlg", seconds=2.0),
    "anamorphic 16:9": _clip(
        "pal.mp4", "-vf", "setsar=64/45", "-c:v", "libx264", "-b:v", "600k", size="720x576"
    ),
    "4k vertical": _clip(
        "tall4k.mp4", "-c:v", "libx264", "-preset", "ultrafast", size="2160x3840", rate=10
    ),
}


@pytest.mark.parametrize("name", list(CORPUS))
def test_every_variant_meets_the_rules_it_was_made_for(
    api: httpx.Client, tmp_path: Path, name: str
) -> None:
    source = CORPUS[name](tmp_path)
    media = upload_file(api, source)
    settled = wait_settled(api, media["id"], timeout=90)
    assert settled["status"] == "ready", settled
    answer = wait_variants(api, media["id"], timeout=180)
    assert answer["variants_status"] in ("ready", "none")
    verdicts = {p["platform"]: p for p in answer["platforms"]}
    amber = {n for n, p in verdicts.items() if p["verdict"] == "amber"}
    covered = {n for v in answer["variants"] for n in v["platforms"]}
    assert covered == amber, (name, amber - covered, covered - amber)
    checksums: set[str] = set()
    for index, variant in enumerate(answer["variants"]):
        served = httpx.get(variant["url"], timeout=30)
        assert served.status_code == 200 and len(served.content) == variant["size"]
        digest = hashlib.sha256(served.content).hexdigest()
        assert variant["checksum_sha256"] == digest
        assert digest not in checksums, f"{name}: two variants are the same bytes"
        checksums.add(digest)
        if variant["content_type"] == "video/mp4":
            made = tmp_path / f"variant-{index}.mp4"
            made.write_bytes(served.content)
            _intact(made, variant, settled)
            for network in variant["platforms"]:
                rules = rules_for(network, verdicts[network]["form"], _kind(settled))
                assert video_breaks(rules, made) == [], (name, network)
        else:
            for network in variant["platforms"]:
                rules = rules_for(network, verdicts[network]["form"], _kind(settled))
                assert image_breaks(rules, served.content) == [], (name, network)


def _kind(media: dict[str, Any]) -> str:
    """The media's kind to a network (an animation is a "gif", a one-frame GIF an image)."""
    frames = media["metadata"].get("frames")
    if media["kind"] in ("image", "gif") and isinstance(frames, int):
        return "gif" if frames > 1 else "image"
    return str(media["kind"])


def _intact(made: Path, variant: dict[str, Any], media: dict[str, Any]) -> None:
    probed = clip(made)
    assert probed.moov_first and not probed.edit_lists
    assert probed.constant_rate, sorted(probed.intervals_ms)
    assert probed.codec == variant["codec"]
    if variant["method"] == "encode":  # 8-bit 4:2:0 BT.709, square pixels, as tagged
        assert probed.pix_fmt == "yuv420p" and not probed.interlaced
        assert probed.colour == ("bt709", "bt709", "bt709") and probed.sample_aspect == "1:1"
        assert (probed.width, probed.height) == (variant["width"], variant["height"])
    else:  # the source's own pictures (an HDR clip stays HDR), as the facts say
        assert probed.pix_fmt == media["metadata"]["pix_fmt"]
        assert probed.colour[1] == (media["metadata"]["color_transfer"] or "unknown")
        assert probed.height == variant["height"]
    if media["kind"] == "video":  # every moment of the source plays, at its own speed
        assert abs(probed.seconds - media["duration_ms"] / 1000) < 0.15
