"""Per-network still and animated variants of an image: cut or padded to an aspect ratio,
resized within a network's pixel limits, and encoded at the best quality that fits its
byte cap (each encode's size aims the next). Pixels only: nothing of the original's
metadata survives."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medialib.errors import MediaProcessingFailed
from medialib.processing.byte_cap import SizeCurve, best_fit, predicted
from medialib.processing.framing import Box, padded_size
from medialib.processing.images import DerivedImage, first_line, vips

_ROUNDS = 8


@dataclass(frozen=True, slots=True)
class Framing:
    """How a variant's picture is cut or filled to an aspect ratio (see framing.py)."""

    crop: Box | None = None  # of the upright picture, in its pixels
    pad_ratio: float | None = None  # or: fill out to this ratio around the whole picture
    upscale_to_width: int | None = None  # only where the network upscales anyway
    # The range the made picture must be inside, to the pixel (after every resize).
    min_aspect: float | None = None
    max_aspect: float | None = None


class Decoded:
    """One decode of a picture shared by all of its still variants: upright, sRGB, at the
    largest scale any variant has asked for so far (kept in memory). A smaller variant is
    resized from it (lanczos3, as a thumbnail's final step is) instead of read and decoded
    again; a larger one decodes anew and takes its place. Variants are made largest first,
    so a job decodes its picture once."""

    def __init__(self, source: Path, width: int, height: int) -> None:
        self.source, self.width, self.height = source, width, height
        self._image: Any = None
        self._scale = 0.0

    def at(self, scale: float) -> Any:
        """The whole upright picture at `scale` (of its displayed size, at most 1)."""
        scale = min(scale, 1.0)
        load_w = max(1, round(self.width * scale))
        load_h = max(1, round(self.height * scale))
        if self._image is None or scale > self._scale + 1e-9:
            image = vips().Image.thumbnail(
                str(self.source), load_w, height=load_h, size="force", fail_on="error"
            )
            if image.interpretation not in ("srgb", "b-w"):
                image = image.colourspace("srgb")
            self._image, self._scale = image.copy_memory(), scale
        image = self._image
        if (image.width, image.height) == (load_w, load_h):
            return image
        return image.resize(load_w / image.width, vscale=load_h / image.height, kernel="lanczos3")


def render_variant(
    source: Path | Decoded,
    out_dir: Path,
    *,
    width: int,
    height: int,
    fmt: str,
    max_width: int | None = None,
    max_height: int | None = None,
    max_pixels: int | None = None,
    max_width_plus_height: int | None = None,
    max_bytes: int | None = None,
    framing: Framing | None = None,
    curve: SizeCurve | None = None,
) -> DerivedImage:
    """A network's still variant of an image (`width` x `height` as displayed): upright,
    cropped or padded to its aspect, within its pixel bounds, JPEG (or PNG to keep
    transparency) with no metadata, and under its byte cap.

    Decoded once, shrunk on load to the size it will have. Under a byte cap, size and
    quality are chosen together: the best quality in 70-92 that fits, aimed along the
    file's own size-for-quality curve (`byte_cap.best_fit`: probes of an eighth of its
    rows or less aim one whole encode, tuned for the bytes: optimised tables, progressive
    scans, a quantisation table tuned for the eye; a file with no cap is encoded
    plainly); only when even 70 does not fit are pixels given up, by
    the ratio the curve overshoots, from the decoded copy (never re-decoded).
    Pixels given up are given up for a middle quality (`_SHRINK_FOR_QUALITY`): on busy
    pictures fewer, cleaner pixels look better than more at the lowest quality.

    `curve`: what earlier variants of the same picture measured (shared by the caller):
    a variant then aims its first encode at its cap instead of trying the top quality."""
    framing = framing or Framing()
    curve = curve if curve is not None else SizeCurve()
    decoded = source if isinstance(source, Decoded) else Decoded(source, width, height)
    try:
        bounds = (max_width, max_height, max_pixels, max_width_plus_height)
        image = _framed(decoded, width, height, framing, *bounds)
        # Not copied to memory: the resize streams into the encoder on both cores, and a
        # capped file is usually encoded once (its probes read an eighth of its rows or less).
        # Whole encodes this file may cost: two once the picture's curve is known, three
        # for its first variant; giving pixels up spends from the same budget (at least one
        # encode each size).
        budget = 2 if curve.known() else 3
        smaller = 1.0  # pixels given up, as a scale of the first size
        for _ in range(_ROUNDS):
            if fmt != "png" and image.hasalpha():
                image = image.flatten(background=[255, 255, 255])
            image = _inside(image, framing.min_aspect, framing.max_aspect)
            pixels = image.width * image.height
            points = curve.at(pixels) if fmt != "png" else []
            data, measured, guide = best_fit(image, fmt, max_bytes, points, most=max(1, budget))
            budget -= len(measured)
            if fmt != "png":
                curve.add(measured, pixels)
            if data is not None:
                out = out_dir / f"variant.{'png' if fmt == 'png' else 'jpg'}"
                out.write_bytes(data)
                content_type = "image/png" if fmt == "png" else "image/jpeg"
                return DerivedImage(out, image.width, image.height, content_type)
            assert max_bytes is not None
            # PNG has no quality to lower: its size is what it is.
            wanted = (
                measured[-1][1] if fmt == "png" else predicted(measured, guide, _SHRINK_FOR_QUALITY)
            )
            smaller *= max(0.3, min(0.95, (max_bytes / wanted) ** 0.5 * 0.97))
            # From the decoded copy again, not from this size: one resize, never a chain.
            image = _framed(decoded, width, height, framing, *bounds, smaller=smaller)
    except vips().Error as exc:
        raise MediaProcessingFailed(
            "The image could not be decoded.", reason=first_line(exc)
        ) from exc
    raise MediaProcessingFailed("No variant small enough could be made.", max_bytes=max_bytes)


def _inside(image: Any, low: float | None, high: float | None) -> Any:
    """The picture with a pixel or two trimmed where rounding (of a crop, of a resize) left
    it just outside its aspect range: a 4:5 minimum never comes out 0.7998."""
    width, height = image.width, image.height
    if low is not None and width / height < low and low != high:
        height = max(1, math.floor(width / low))
    if high is not None and width / height > high and low != high:
        width = max(1, math.floor(height * high))
    if (width, height) == (image.width, image.height):
        return image
    return image.crop((image.width - width) // 2, (image.height - height) // 2, width, height)


def _framed(
    decoded: Decoded,
    width: int,
    height: int,
    framing: Framing,
    max_w: int | None,
    max_h: int | None,
    max_pixels: int | None,
    max_sum: int | None,
    smaller: float = 1.0,
) -> Any:
    """The upright picture cut (or filled) to its aspect and scaled into its box (and then
    by `smaller`, where pixels are given up for a byte cap)."""
    crop = framing.crop
    region_w, region_h = (crop.width, crop.height) if crop else (width, height)
    if framing.pad_ratio:
        canvas_w, canvas_h = padded_size(width, height, framing.pad_ratio)
    else:
        canvas_w, canvas_h = region_w, region_h
    box_w, box_h = variant_box(canvas_w, canvas_h, max_w, max_h, max_pixels, max_sum)
    scale = min(box_w / canvas_w, box_h / canvas_h, 1.0)
    if framing.upscale_to_width and canvas_w * scale < framing.upscale_to_width:
        scale = framing.upscale_to_width / canvas_w
    scale *= smaller
    # The whole picture at its final scale (shrunk on load the first time: libvips decodes
    # JPEGs at 1/2, 1/4, 1/8 directly), then the region cut from that.
    image = decoded.at(scale)
    if crop is not None:
        fx, fy = image.width / width, image.height / height
        left, top = round(crop.left * fx), round(crop.top * fy)
        cut_w = max(1, min(image.width - left, round(crop.width * fx)))
        cut_h = max(1, min(image.height - top, round(crop.height * fy)))
        image = image.crop(left, top, cut_w, cut_h)
    if scale > 1.0:
        image = image.resize(scale, kernel="lanczos3")
    if framing.pad_ratio:
        image = _padded(image, framing.pad_ratio)
    return image


def _padded(image: Any, ratio: float) -> Any:
    """The picture centred on a canvas of `ratio`, over a blurred, darkened copy of
    itself stretched to cover it (what publishing tools show instead of bars)."""
    canvas_w, canvas_h = padded_size(image.width, image.height, ratio)
    cover = max(canvas_w / image.width, canvas_h / image.height)
    backdrop = image.resize(cover, kernel="linear")
    backdrop = backdrop.crop(
        (backdrop.width - canvas_w) // 2, (backdrop.height - canvas_h) // 2, canvas_w, canvas_h
    )
    backdrop = (backdrop.gaussblur(max(4.0, canvas_w / 40)) * 0.6).cast("uchar")
    return backdrop.insert(image, (canvas_w - image.width) // 2, (canvas_h - image.height) // 2)


_SHRINK_FOR_QUALITY = 75


def variant_box(
    width: int,
    height: int,
    max_w: int | None,
    max_h: int | None,
    max_pixels: int | None,
    max_sum: int | None = None,
) -> tuple[int, int]:
    """The box the variant must fit in (never larger than the image)."""
    scale = 1.0
    if max_pixels and width * height > max_pixels:
        scale = (max_pixels / (width * height)) ** 0.5
    if max_sum and (width + height) * scale > max_sum:
        scale = max_sum / (width + height)
    box_w, box_h = int(width * scale), int(height * scale)
    return max(1, min(box_w, max_w or box_w)), max(1, min(box_h, max_h or box_h))
