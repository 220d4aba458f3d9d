"""Per-network variants against the plain ways of making the same files, in the same run.

- Byte-cap quality: five 12 MP pictures of rising detail made to the tightest image cap
  of the rules (Bluesky's 2 MB, within its 4000 px box) by `render_variant`, beside a
  shrink-until-it-fits loop (quality 80, 10 % smaller per step, each step re-encoding
  the previous result). SSIM against the source, compared at the source's size (the
  variant scaled back up) and at each file's own size (the source scaled down to it).
- All image variants of a 24 MP JPEG (`make_variant_files`, every network's specs, into
  a local store, as the job does) vs the sum of single `vipsthumbnail` calls making
  files of the same sizes.
- Video variants of a 60 s 1080p30 25 Mb/s H.264 clip (`make_variant_files`) vs the
  `ffmpeg` CLI making only the final files (same sizes, rates, preset, CRF and bit-rate
  cap); and a compliant H.264/AAC `.mov` made ready by remux vs `ffmpeg -c copy`.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyvips

from medialib.config import Settings
from medialib.media.derivatives import Original
from medialib.media.records import Variant
from medialib.platforms.reasons import Facts
from medialib.platforms.rules import catalog
from medialib.platforms.variants import ImageSpec, Spec, VideoSpec, variant_specs
from medialib.processing import byte_cap, image_variants
from medialib.processing.avprobe import probe
from medialib.storage.local import LocalObjectStore
from medialib.storage.signing import SigningKeys
from medialib.variants.files import Source, make_variant_files

WORK = Path(__file__).resolve().parent / ".work-variants"


def run(*, runs: int = 3, video_seconds: int = 60) -> str:
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    try:
        quality = _byte_cap_quality()
        print(quality, flush=True)
        stills = _image_variants(runs)
        print(stills, flush=True)
        videos = _video_variants(video_seconds)
        print(videos, flush=True)
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
    return _section(quality, stills, videos, video_seconds)


# --- byte-cap quality ---------------------------------------------------------------------


def _tightest_cap() -> tuple[int, int | None]:
    caps = [
        (rules.max_bytes, rules.max_width)
        for network in catalog()
        for form in network.forms
        if "image" in form.media and (rules := form.media["image"].rules).max_bytes
    ]
    return min(caps, key=lambda cap: cap[0] or 0)  # type: ignore[return-value]


def _picture(path: Path, detail: int) -> Path:
    """A 4000x3000 picture: smooth gradients under noise of rising strength and sharpness."""
    sigma = (14, 24, 36, 50, 64)[detail]  # every one over the cap at quality 95
    blur = (1.4, 1.0, 0.7, 0.5, 0.4)[detail]
    x = pyvips.Image.xyz(4000, 3000)
    ramp = (x[0] / 16 + x[1] / 12).cast("uchar")
    noise = pyvips.Image.gaussnoise(4000, 3000, sigma=sigma, mean=0).gaussblur(blur)
    bands = [(ramp + noise).cast("uchar"), (ramp.rot180() + noise).cast("uchar"), ramp]
    bands[0].bandjoin(bands[1:]).copy(interpretation="srgb").jpegsave(str(path), Q=95)
    return path


def _shrink_loop(source: Path, out: Path, cap: int, box: int | None) -> Path:
    image = pyvips.Image.thumbnail(str(source), box or 100_000, size="down")
    data = image.jpegsave_buffer(Q=80, keep="none")
    while len(data) > cap:
        previous = pyvips.Image.new_from_buffer(data, "")
        data = previous.resize(0.9, kernel="lanczos3").jpegsave_buffer(Q=80, keep="none")
    out.write_bytes(data)
    return out


def _ssim(a: Any, b: Any) -> float:
    """Mean SSIM of two same-sized pictures, on luminance (Gaussian window, sigma 1.5)."""
    x = a.colourspace("b-w")[0].cast("float")
    y = b.colourspace("b-w")[0].cast("float")
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(image: Any) -> Any:
        return image.gaussblur(1.5, precision="float")

    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    top = (mx * my * 2 + c1) * (cxy * 2 + c2)
    bottom = (mx * mx + my * my + c1) * (vx + vy + c2)
    return float((top / bottom).avg())


def _compare(source: Path, made: Path) -> dict[str, float]:
    original = pyvips.Image.new_from_file(str(source))
    file = pyvips.Image.new_from_file(str(made))
    up = file.resize(original.width / file.width, vscale=original.height / file.height)
    down = original.resize(file.width / original.width, vscale=file.height / original.height)
    return {
        "bytes": made.stat().st_size,
        "width": file.width,
        "at_source": _ssim(original, up),
        "at_own": _ssim(down, file),
    }


def _byte_cap_quality() -> list[dict[str, Any]]:
    cap, box = _tightest_cap()
    rows = []
    for detail in range(5):
        source = _picture(WORK / f"picture-{detail}.jpg", detail)
        ours = image_variants.render_variant(
            source,
            _folder(f"ours-{detail}"),
            width=4000,
            height=3000,
            fmt="jpeg",
            max_width=box,
            max_height=box,
            max_bytes=cap,
        )
        loop = _shrink_loop(source, WORK / f"loop-{detail}.jpg", cap, box)
        rows.append(
            {
                "source_mb": source.stat().st_size / 1e6,
                "cap": cap,
                "ours": _compare(source, ours.path),
                "loop": _compare(source, loop),
            }
        )
    return rows


# --- all image variants of a 24 MP JPEG -------------------------------------------------------


def _store(name: str) -> LocalObjectStore:
    root = _folder(name)
    return LocalObjectStore(
        root / "objects", signing_keys=SigningKeys.load_or_create(root), public_base_url="http://x"
    )


def _folder(name: str) -> Path:
    folder = WORK / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _stored(store: LocalObjectStore, path: Path, content_type: str) -> str:
    key = "ws_1/med_1/token/original"
    writer = store.open_writer(key, content_type=content_type, max_bytes=10**11)
    with path.open("rb") as data:
        while chunk := data.read(1 << 20):
            writer.write(chunk)
    writer.commit()
    return key


def _make_all(
    path: Path, content_type: str, specs: dict[Spec, list[str]], facts: Facts
) -> tuple[float, list[Variant]]:
    store = _store(f"store-{time.perf_counter_ns()}")
    key = _stored(store, path, content_type)
    source = Source(
        original=Original("med_1", facts.kind, key, content_type, facts.duration_ms),
        width=facts.width or 0,
        height=facts.height or 0,
    )
    settings = Settings(data_dir=_folder("data"), job_time_limit_seconds=3600)
    started = time.perf_counter()
    made = make_variant_files(store, settings, source, specs)
    return time.perf_counter() - started, made


def _image_variants(runs: int) -> dict[str, Any]:
    photo = WORK / "photo-24mp.jpg"
    noise = pyvips.Image.gaussnoise(6000, 4000, sigma=30, mean=128)
    noise.bandjoin([noise.rot180(), noise.fliphor()]).cast("uchar").jpegsave(str(photo), Q=90)
    facts = Facts(kind="image", format="jpeg", size=photo.stat().st_size, width=6000, height=4000)
    specs = {s: n for s, n in variant_specs(facts).items() if isinstance(s, ImageSpec)}
    ours, cli, once, same = [], [], [], []
    made: list[Variant] = []
    vipsthumbnail = shutil.which("vipsthumbnail")
    for _ in range(runs + 1):  # the first run warms the page cache and is not counted
        with _counted_encodes() as encodes:
            seconds, made = _make_all(photo, "image/jpeg", specs, facts)
        ours.append(seconds)
        kept = [_quality_of(v, encodes) for v in made]
        once.append(_decode_once(photo, made, [85] * len(made), durable=False))
        same.append(_decode_once(photo, made, kept, durable=True))
        if vipsthumbnail:
            started = time.perf_counter()
            for index, variant in enumerate(made):
                out = _folder("cli") / f"{index}.jpg"
                size = f"{variant.width}x{variant.height}"
                subprocess.run(
                    [vipsthumbnail, str(photo), "--size", size, "-o", f"{out}[Q=85,strip]"],
                    check=True,
                )
            cli.append(time.perf_counter() - started)
    whole = [e for e in encodes if not e[4]]
    return {
        "photo_mb": photo.stat().st_size / 1e6,
        "specs": len(specs),
        "files": [
            (v.width, v.height, v.size, len(v.platforms), q)
            for v, q in zip(made, kept, strict=True)
        ],
        "whole_encodes": len(whole),
        "probe_share": sum(e[0] * e[1] for e in encodes if e[4])
        / sum(v.width * v.height for v in made),
        "ours": statistics.median(ours[1:]),
        "cli": statistics.median(cli[1:]) if cli else None,
        "once": statistics.median(once[1:]),
        "same": statistics.median(same[1:]),
    }


@contextmanager
def _counted_encodes() -> Iterator[list[tuple[int, int, int, int, bool]]]:
    """Every JPEG encode the job makes (width, height, quality, bytes, whether a probe),
    counted, not changed."""
    encodes: list[tuple[int, int, int, int, bool]] = []
    real_encode, real_estimate = byte_cap.encode, byte_cap._Probe.estimate
    probing = [False]

    def counted(image: Any, fmt: str, quality: int) -> bytes:
        data = real_encode(image, fmt, quality)
        encodes.append((image.width, image.height, quality, len(data), probing[0]))
        return data

    def estimate(probe: Any, quality: int) -> float:
        probing[0] = True
        try:
            return real_estimate(probe, quality)
        finally:
            probing[0] = False

    byte_cap.encode, byte_cap._Probe.estimate = counted, estimate  # type: ignore[method-assign]
    try:
        yield encodes
    finally:
        byte_cap.encode, byte_cap._Probe.estimate = real_encode, real_estimate  # type: ignore[method-assign]


def _quality_of(variant: Variant, encodes: list[tuple[int, int, int, int, bool]]) -> int:
    wanted = (variant.width, variant.height, variant.size)
    return next(q for w, h, q, size, _ in encodes if (w, h, size) == wanted)


def _decode_once(photo: Path, made: list[Variant], qualities: list[int], *, durable: bool) -> float:
    """The floor: a pyvips script that decodes the photo once (shrunk on load to the
    largest file's size), then resizes and encodes each of the same final files from that
    copy, once each (no byte cap to aim at). `durable`: at each file's own quality and
    written as a store must (fsync), the same work as the job; else all at quality 85,
    written to the page cache."""
    started = time.perf_counter()
    largest = max(made, key=lambda v: v.width * v.height)
    decoded = pyvips.Image.thumbnail(
        str(photo), largest.width, height=largest.height, size="force"
    ).copy_memory()
    for index, (variant, quality) in enumerate(zip(made, qualities, strict=True)):
        scale = variant.width / decoded.width
        image = decoded if scale == 1 else decoded.resize(scale, kernel="lanczos3")
        out = _folder("once") / f"{index}.jpg"
        if not durable:
            image.jpegsave(str(out), Q=quality, keep="none")
            continue
        data = image.jpegsave_buffer(Q=quality, keep="none", optimize_coding=False)
        with out.open("wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
    return time.perf_counter() - started


# --- video variants -----------------------------------------------------------------------------


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def _clip(path: Path, seconds: int, *, container_args: list[str], bitrate: str = "25M") -> Path:
    subprocess.run(
        [
            _ffmpeg(),
            *("-loglevel", "error", "-y"),
            *("-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate=30:duration={seconds}"),
            *("-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"),
            *("-vf", "noise=alls=12:allf=t", "-c:v", "libx264", "-preset", "ultrafast"),
            *("-b:v", bitrate, "-maxrate", bitrate, "-bufsize", bitrate, "-pix_fmt", "yuv420p"),
            *("-c:a", "aac", "-b:a", "128k", *container_args),
            str(path),
        ],
        check=True,
    )
    return path


def _video_facts(path: Path, content_type: str) -> Facts:
    get = probe(path, content_type, timeout_seconds=120).get
    return Facts(
        kind="video",
        size=path.stat().st_size,
        width=get("width"),
        height=get("height"),
        duration_ms=get("duration_ms"),
        container=get("container"),
        codec=get("codec"),
        fps=get("fps"),
        pix_fmt=get("pix_fmt"),
        interlaced=get("interlaced"),
        moov_first=get("moov_first"),
        edit_lists=get("edit_lists"),
        video_bitrate=get("video_bitrate"),
        has_audio=bool(get("audio_codec")),
        audio_codec=get("audio_codec"),
        audio_profile=get("audio_profile"),
        audio_channels=get("audio_channels"),
        audio_sample_rate=get("audio_sample_rate"),
        audio_bitrate=get("audio_bitrate"),
    )


def _cli_encode(source: Path, variant: Variant, out: Path) -> None:
    spec = variant.spec
    video_bits = max(1, (variant.bitrate or 0) - 128_000)
    cap = (
        ["-maxrate", str(video_bits), "-bufsize", str(video_bits)] if spec.get("max_bytes") else []
    )
    subprocess.run(
        [
            _ffmpeg(),
            *("-loglevel", "error", "-y", "-i", str(source)),
            *("-vf", f"scale={variant.width}:{variant.height}:flags=lanczos,fps={variant.fps}"),
            *("-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-crf", "23", *cap),
            *("-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", "-ac", "2"),
            *("-movflags", "+faststart", str(out)),
        ],
        check=True,
    )


def _video_variants(seconds: int) -> dict[str, Any]:
    webm_like = _clip(WORK / "clip.mp4", seconds, container_args=[])  # moov last: not ready
    facts = _video_facts(webm_like, "video/mp4")
    # Encoded variants: a clip over the caps and rates of several networks (60 fps would
    # be the same work; 25 Mb/s is over X's, Threads' and others' bit-rate or byte caps).
    specs = variant_specs(facts)
    ours_seconds, made = _make_all(webm_like, "video/mp4", specs, facts)
    started = time.perf_counter()
    for index, variant in enumerate(made):
        if variant.method == "encode":
            _cli_encode(webm_like, variant, WORK / f"cli-{index}.mp4")
        else:
            _cli_copy(webm_like, WORK / f"cli-{index}.mp4")
    cli_seconds = time.perf_counter() - started
    # An H.264/AAC .mov within every network's caps whose only faults are packaging
    # (`moov` last, edit lists, a container some do not take): remuxed, never encoded.
    mov = _clip(WORK / "compliant.mov", seconds, container_args=["-f", "mov"], bitrate="3M")
    mov_facts = _video_facts(mov, "video/quicktime")
    mov_specs = {
        spec: networks
        for spec, networks in variant_specs(mov_facts).items()
        if isinstance(spec, VideoSpec) and spec.method == "remux"
    }
    mov_seconds, mov_made = _make_all(mov, "video/quicktime", mov_specs, mov_facts)
    started = time.perf_counter()
    for _ in mov_made:
        _cli_copy(mov, WORK / "cli-remux.mp4")
    copy_seconds = time.perf_counter() - started
    return {
        "source_mb": webm_like.stat().st_size / 1e6,
        "files": [(v.method, v.width, v.height, v.fps, v.size, len(v.platforms)) for v in made],
        "ours": ours_seconds,
        "cli": cli_seconds,
        "mov_files": [(v.method, v.size, len(v.platforms)) for v in mov_made],
        "mov_ours": mov_seconds,
        "mov_cli": copy_seconds,
    }


def _cli_copy(source: Path, out: Path, container: str = "mp4") -> None:
    subprocess.run(
        [
            _ffmpeg(),
            *("-loglevel", "error", "-y", "-i", str(source), "-c", "copy"),
            *(["-movflags", "+faststart"] if container == "mp4" else []),
            *("-f", container, str(out)),
        ],
        check=True,
    )


# --- report -------------------------------------------------------------------------------------


def _section(
    quality: list[dict[str, Any]], stills: dict[str, Any], videos: dict[str, Any], seconds: int
) -> str:
    cap = quality[0]["cap"]
    rows = "\n".join(
        f"| {i + 1} ({q['source_mb']:.1f} MB) "
        f"| {q['ours']['width']} px, {q['ours']['bytes'] / 1e6:.2f} MB "
        f"| {q['ours']['at_source']:.3f} | {q['ours']['at_own']:.3f} "
        f"| {q['loop']['width']} px, {q['loop']['bytes'] / 1e6:.2f} MB "
        f"| {q['loop']['at_source']:.3f} | {q['loop']['at_own']:.3f} |"
        for i, q in enumerate(quality)
    )
    wins_source = sum(q["ours"]["at_source"] >= q["loop"]["at_source"] for q in quality)
    wins_own = sum(q["ours"]["at_own"] >= q["loop"]["at_own"] for q in quality)
    stills_ratio = f"{stills['ours'] / stills['cli']:.2f}×" if stills["cli"] else "n/a"
    stills_cli = f"{stills['cli']:.2f} s" if stills["cli"] else "`vipsthumbnail` missing"
    files = ", ".join(f"{w}×{h} Q{q} {s / 1e6:.1f} MB (×{n})" for w, h, s, n, q in stills["files"])
    video_files = ", ".join(
        f"{m} {w}×{h} {fps:g} fps {s / 1e6:.1f} MB (×{n})" for m, w, h, fps, s, n in videos["files"]
    )
    return f"""## Per-network variants (`bench/variants.py`)

### Byte-cap quality at the tightest image cap ({cap / 1e6:.1f} MB)

Five 12 MP pictures of rising detail. medialib (`render_variant`: the best JPEG quality
in 70–92 that fits, aimed along the picture's size-for-quality curve; when even 70 is
over, pixels given up for quality 75) beside a shrink-until-it-fits loop
(quality 80, 10 % smaller per step, re-encoding the previous result). SSIM on luminance
against the source, at the source's size and at each file's own size.

| picture | medialib file | SSIM at source size | SSIM at own size | loop file | SSIM at source size | SSIM at own size |
|---|---|---|---|---|---|---|
{rows}

medialib is as good or better in **{wins_source} of 5** at the source's size and
**{wins_own} of 5** at each file's own size (goal: 5 of 5 on both).

### All image variants of a 24 MP JPEG ({stills["photo_mb"]:.0f} MB)

| work | time |
|---|---|
| medialib: `make_variant_files` for every network's specs ({stills["specs"]} specs → {len(stills["files"])} files: {files}), stored | {stills["ours"]:.2f} s |
| sum of single `vipsthumbnail` calls making files of the same sizes (Q 85) | {stills_cli} |
| **ratio** | **{stills_ratio}** (≤ 1.0×) |
| a pyvips script decoding the photo once, then resizing and encoding each of the same files from that copy (Q 85, one encode each, written to the page cache) | {stills["once"]:.2f} s |
| **ratio** | **{stills["ours"] / stills["once"]:.2f}×** |
| the one-decode floor doing the same work: each file at the quality medialib chose for it, written durably (fsync), as a store must | {stills["same"]:.2f} s |
| **ratio to the same-work floor** | **{stills["ours"] / stills["same"]:.2f}×** (≤ 1.2×) |

The job made {stills["whole_encodes"]} whole encodes for these {len(stills["files"])} files; its probes
encoded pixels worth {stills["probe_share"]:.0%} of the files'.

### Video variants of a {seconds} s 1080p30 25 Mb/s H.264 clip ({videos["source_mb"]:.0f} MB, `moov` last)

| work | time |
|---|---|
| medialib: `make_variant_files` for every network's specs ({len(videos["files"])} files: {video_files}) | {videos["ours"]:.1f} s |
| `ffmpeg` CLI making only the final files (same size, rate, preset, CRF, bit-rate cap) | {videos["cli"]:.1f} s |
| **ratio** | **{videos["ours"] / videos["cli"]:.2f}×** (≤ 1.0×; remux ≤ 2×) |
| a {seconds} s 3 Mb/s H.264/AAC `.mov`, the networks where only its packaging is wrong: medialib ({", ".join(f"{m} {s / 1e6:.1f} MB ×{n}" for m, s, n in videos["mov_files"]) or "no variant needed"}) | {videos["mov_ours"]:.2f} s |
| the same files with `ffmpeg -c copy -movflags +faststart` | {videos["mov_cli"]:.2f} s |
"""
