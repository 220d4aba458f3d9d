"""Processing against the raw tools, in the same run.

- Preview of a 24 MP JPEG: medialib's `make_thumbnail` (libvips through pyvips, in the
  worker's process, as the job runs it) vs Debian's `vipsthumbnail` CLI, same size and
  quality, no metadata.
- Cover frame at 5 s of a 60 s 1080p H.264 file: medialib's `extract_frame` (a bounded
  child process running FFmpeg through PyAV, output scaled to 512 px) vs
  `ffmpeg -ss 5 -i … -frames:v 1` (full size, as the issue names it).
- Peak memory of the worker for both, and of the decoder child.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyvips

from medialib.processing import frames, images

WORK = Path(__file__).resolve().parent / ".work"


def run(*, runs: int = 5) -> str:
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    photo = _photo_24mp(WORK / "photo-24mp.jpg")
    clip = _clip_1080p_60s(WORK / "clip-1080p-60s.mp4")
    vipsthumbnail = shutil.which("vipsthumbnail")
    ffmpeg = _ffmpeg()

    ours_thumb = _timed(runs, lambda out: images.make_thumbnail(photo, out))
    cli_thumb = (
        _timed(
            runs,
            lambda out: subprocess.run(
                [vipsthumbnail, str(photo), "--size", "512x512>", "-o", f"{out}/t.jpg[Q=82,strip]"],
                check=True,
            ),
        )
        if vipsthumbnail
        else []
    )
    ours_frame = _timed(
        runs,
        lambda out: frames.extract_frame(
            clip, "video/mp4", at_ms=5000, out_path=out / "f.jpg", max_side=512, timeout_seconds=60
        ),
    )
    cli_frame = _timed(
        runs,
        lambda out: subprocess.run(
            [
                ffmpeg,
                "-loglevel",
                "error",
                "-ss",
                "5",
                "-i",
                str(clip),
                "-frames:v",
                "1",
                f"{out}/f.jpg",
            ],
            check=True,
        ),
    )
    result = {
        "runs": runs,
        "photo_mb": photo.stat().st_size / 1e6,
        "ours_thumb": statistics.median(ours_thumb),
        "cli_thumb": statistics.median(cli_thumb) if cli_thumb else None,
        "ours_frame": statistics.median(ours_frame),
        "cli_frame": statistics.median(cli_frame),
        "thumb_rss_mb": _fresh_process_peak(_THUMBNAIL_WORK, photo) / 1e6,
        "child_rss_mb": _fresh_process_peak(_FRAME_WORK, clip) / 1e6,
    }
    print(result, flush=True)
    shutil.rmtree(WORK, ignore_errors=True)
    return _section(result)


def _timed(runs: int, work: Callable[[Path], Any]) -> list[float]:
    times = []
    for _ in range(runs + 1):  # the first run warms caches and is not counted
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            work(Path(folder))
            times.append(time.perf_counter() - started)
    return times[1:]


def _photo_24mp(path: Path) -> Path:
    noise = pyvips.Image.gaussnoise(6000, 4000, sigma=40, mean=128)
    image = noise.bandjoin([noise.rot180(), noise.fliphor()]).cast("uchar")
    image.jpegsave(str(path), Q=90)
    return path


def _clip_1080p_60s(path: Path) -> Path:
    source = ["-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30", "-t", "60"]
    encode = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    subprocess.run([_ffmpeg(), "-loglevel", "error", "-y", *source, *encode, str(path)], check=True)
    return path


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


# The worker's own work (libvips in-process), and exactly what the decoder child runs.
_THUMBNAIL_WORK = (
    "import pathlib, sys, tempfile; from medialib.processing import images; "
    "images.make_thumbnail(pathlib.Path(sys.argv[1]), pathlib.Path(tempfile.mkdtemp()))"
)
_FRAME_WORK = (
    "import sys, tempfile; from medialib.processing import frames; "
    "frames._frame_in_child([sys.argv[1], 'mov', '5000', tempfile.mktemp(), '512'])"
)


def _fresh_process_peak(code: str, source: Path) -> int:
    """Peak RSS (bytes) of a new interpreter doing `code`, minus what its imports cost."""
    script = (
        f"{code.split('; ', 1)[0]}; from medialib.processing import images, frames; "
        "rss = lambda f: int([l for l in open('/proc/self/status') if l.startswith(f)][0].split()[1]); "
        "before = rss('VmRSS'); "
        f"{code.split('; ', 1)[1]}; "
        "print((rss('VmHWM') - before) * 1024)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(source)], capture_output=True, text=True, check=True
    )
    return int(done.stdout.strip())


def _section(result: dict[str, Any]) -> str:
    if result["cli_thumb"]:
        thumb_ratio = f"{result['ours_thumb'] / result['cli_thumb']:.2f}×"
        cli_thumb = f"{result['cli_thumb'] * 1000:.0f} ms"
    else:
        thumb_ratio, cli_thumb = (
            "n/a",
            "`vipsthumbnail` not installed (apt-get install libvips-tools)",
        )
    frame_ratio = f"{result['ours_frame'] / result['cli_frame']:.2f}×"
    return f"""## Processing vs the raw tools

Medians of {result["runs"]} runs after a warm-up run.

| work | medialib | raw tool | ratio (target) |
|---|---|---|---|
| 512 px preview of a 24 MP JPEG ({result["photo_mb"]:.0f} MB) | {result["ours_thumb"] * 1000:.0f} ms (`make_thumbnail`, libvips 8.18 in-process) | {cli_thumb} (Debian's `vipsthumbnail`) | **{thumb_ratio}** (≤ 1.1×) |
| cover frame at 5 s of a 60 s 1080p H.264 file | {result["ours_frame"] * 1000:.0f} ms (`extract_frame`, child process, PyAV/FFmpeg 8.1) | {result["cli_frame"] * 1000:.0f} ms (`ffmpeg -ss 5 -i … -frames:v 1`, FFmpeg 9) | **{frame_ratio}** (≤ 1.2×) |

| memory | peak |
|---|---|
| worker: memory added by making the 24 MP preview (libvips shrink-on-load) | {result["thumb_rss_mb"]:.0f} MB |
| decoder child: memory added by the 1080p frame grab (seek, decode, scale, encode) | {result["child_rss_mb"]:.0f} MB |

The frame grab includes starting its bounded child process. Children are forked from a
fork server that has PyAV imported already (`processing/sandbox.py`); before that, a
fresh interpreter per file cost ~150 ms and put this at 1.25×.
"""
