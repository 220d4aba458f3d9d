"""Still variants for bench/variants.py: byte-cap quality against a shrink loop, and all
image variants of a 24 MP JPEG against the summed CLI calls and the one-decode floor; the
store and the job call shared with the video part."""

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
from medialib.platforms.variants import ImageSpec, Spec, variant_specs
from medialib.processing import byte_cap, image_variants
from medialib.storage.local import LocalObjectStore
from medialib.storage.signing import SigningKeys
from medialib.variants.files import Source, make_variant_files

WORK = Path(__file__).resolve().parent / ".work-variants"
PHOTOS = Path(__file__).resolve().parent / ".work-photos"  # fetched by bench/run

# The CLI's files are saved as medialib saves each of its own: a capped one tuned
# (Debian's libvips has no mozjpeg: it ignores the quantisation table, and its files come
# out a little bigger), the others plainly.
_CLI_TUNED = ",".join(
    ["Q=85", "strip"]
    + [f"{key}={str(value).lower()}" for key, value in byte_cap.JPEG_SETTINGS.items()]
)
_CLI_PLAIN = "Q=85,strip"

Encode = tuple[int, int, int, int, bool, bool]  # width, height, quality, bytes, probe, tuned


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


def byte_cap_quality() -> list[dict[str, Any]]:
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
                "mozjpeg": _against_mozjpeg(source, ours.path, detail),
            }
        )
    return rows


def photo_quality() -> list[dict[str, Any]]:
    """Real photographs (bench/run takes them from scikit-image's wheel), each capped at the
    bytes libvips' plain quality-80 encode of it takes (standard tables, baseline), made by
    `render_variant` and judged against mozjpeg's best at the same pixels and bytes."""
    rows = []
    for photo in sorted(PHOTOS.glob("*.png")):
        image = pyvips.Image.new_from_file(str(photo))
        cap = len(image.jpegsave_buffer(Q=80, keep="none", subsample_mode="on"))
        made = image_variants.render_variant(
            photo, _folder(f"photo-{photo.stem}"), width=image.width, height=image.height,
            fmt="jpeg", max_bytes=cap,
        )  # fmt: skip
        compared = _against_mozjpeg(photo, made.path, photo.stem)
        rows.append({"name": photo.stem, "width": image.width, "height": image.height, **compared})
    return rows


def _mozjpeg_within(image: Any, most_bytes: int) -> bytes:
    """The highest quality a mozjpeg-grade encode (libvips' bundled mozjpeg: trellis
    quantisation, optimised Huffman tables and progressive scans, mozjpeg's own
    quantisation tables, as `cjpeg` does by default) fits within `most_bytes`."""
    low, high, best = 20, 100, b""
    while low <= high:
        quality = (low + high) // 2
        data = image.jpegsave_buffer(
            Q=quality,
            keep="none",
            optimize_coding=True,
            trellis_quant=True,
            overshoot_deringing=True,
            optimize_scans=True,
            interlace=True,
            quant_table=3,
            # cjpeg's 4:2:0 at every quality (libvips' default turns to 4:4:4 at 90 and
            # up, so bigger files at higher qualities and a search that is not monotone)
            subsample_mode="on",
        )
        if len(data) <= most_bytes:
            best, low = data, quality + 1
        else:
            high = quality - 1
    return best


def _against_mozjpeg(source: Path, made: Path, detail: int | str) -> dict[str, float]:
    """medialib's file against mozjpeg's best at the same pixels and no more bytes, both
    judged by SSIMULACRA2 against the source scaled to those pixels (100 is identical,
    70 "high quality"; the issue's bar: within 1 point)."""
    from ssimulacra2 import compute_ssimulacra2

    ours = pyvips.Image.new_from_file(str(made))
    original = pyvips.Image.new_from_file(str(source))
    reference = original.resize(ours.width / original.width, vscale=ours.height / original.height)
    reference_path = WORK / f"reference-{detail}.png"
    reference.pngsave(str(reference_path), compression=1)
    moz_path = WORK / f"mozjpeg-{detail}.jpg"
    moz_path.write_bytes(_mozjpeg_within(reference, made.stat().st_size))
    return {
        "ours_bytes": made.stat().st_size,
        "moz_bytes": moz_path.stat().st_size,
        "ours": float(compute_ssimulacra2(str(reference_path), str(made))),
        "moz": float(compute_ssimulacra2(str(reference_path), str(moz_path))),
    }


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


def make_all(
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


def all_image_variants(runs: int) -> dict[str, Any]:
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
            seconds, made = make_all(photo, "image/jpeg", specs, facts)
        ours.append(seconds)
        kept = [_quality_of(v, encodes) for v in made]
        once.append(_decode_once(photo, made, [(85, False)] * len(made), durable=False))
        same.append(_decode_once(photo, made, kept, durable=True))
        if vipsthumbnail:
            started = time.perf_counter()
            for index, (variant, (_, tuned)) in enumerate(zip(made, kept, strict=True)):
                out = _folder("cli") / f"{index}.jpg"
                size = f"{variant.width}x{variant.height}"
                save = _CLI_TUNED if tuned else _CLI_PLAIN
                subprocess.run(
                    [vipsthumbnail, str(photo), "--size", size, "-o", f"{out}[{save}]"],
                    check=True,
                )
            cli.append(time.perf_counter() - started)
    whole = [e for e in encodes if not e[4]]
    return {
        "photo_mb": photo.stat().st_size / 1e6,
        "specs": len(specs),
        "files": [
            (v.width, v.height, v.size, len(v.platforms), q, tuned)
            for v, (q, tuned) in zip(made, kept, strict=True)
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
def _counted_encodes() -> Iterator[list[Encode]]:
    """Every JPEG encode the job makes (width, height, quality, bytes, whether a probe,
    whether tuned), counted, not changed."""
    encodes: list[Encode] = []
    real_encode, real_estimate = byte_cap.encode, byte_cap._Probe.estimate
    probing = [False]

    def counted(image: Any, fmt: str, quality: int, *, tuned: bool = True) -> bytes:
        data = real_encode(image, fmt, quality, tuned=tuned)
        encodes.append((image.width, image.height, quality, len(data), probing[0], tuned))
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


def _quality_of(variant: Variant, encodes: list[Encode]) -> tuple[int, bool]:
    """The quality the job kept for a file, and whether it was encoded tuned."""
    wanted = (variant.width, variant.height, variant.size)
    return next((q, tuned) for w, h, q, size, _, tuned in encodes if (w, h, size) == wanted)


def _decode_once(
    photo: Path, made: list[Variant], qualities: list[tuple[int, bool]], *, durable: bool
) -> float:
    """The floor: a pyvips script that decodes the photo once (shrunk on load to the
    largest file's size), then resizes and encodes each of the same final files from that
    copy, once each (no byte cap to aim at). `durable`: at each file's own quality and
    written as a store must (fsync), each saved as the job saved it (tuned or plainly),
    the same work as the job; else all at quality 85, plainly, written to the page cache."""
    started = time.perf_counter()
    largest = max(made, key=lambda v: v.width * v.height)
    decoded = pyvips.Image.thumbnail(
        str(photo), largest.width, height=largest.height, size="force"
    ).copy_memory()
    for index, (variant, (quality, tuned)) in enumerate(zip(made, qualities, strict=True)):
        scale = variant.width / decoded.width
        image = decoded if scale == 1 else decoded.resize(scale, kernel="lanczos3")
        out = _folder("once") / f"{index}.jpg"
        if not durable:
            image.jpegsave(str(out), Q=quality, keep="none")
            continue
        data = byte_cap.encode(image, "jpeg", quality, tuned=tuned)
        with out.open("wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
    return time.perf_counter() - started
