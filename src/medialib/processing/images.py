"""Image facts from the header alone, through libvips with only the needed loaders.

Opening a file with pyvips reads its header lazily: no pixel is decoded here, so a
decompression bomb is measured and refused before it can cost memory.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medialib.errors import ImageTooLarge, MediaProcessingFailed, client_reason

_ALLOWED_LOADERS = (
    "VipsForeignLoadJpeg",
    "VipsForeignLoadPng",
    "VipsForeignLoadNsgif",
    "VipsForeignLoadWebp",
    "VipsForeignLoadHeif",
)
# EXIF orientations 5-8 are transposed: displayed width is the stored height.
_TRANSPOSED_ORIENTATIONS = {5, 6, 7, 8}
_MAX_FRAMES = 1000
_pyvips: Any = None


def vips() -> Any:
    """pyvips, imported once with untrusted and unneeded loaders blocked."""
    global _pyvips
    if _pyvips is None:
        import pyvips

        # No operation cache: it keeps up to 100 MB of pixels (a job's decoded picture,
        # held by the resizes and crops made from it) alive after the job, and nothing
        # here asks libvips for the same operation twice.
        pyvips.cache_set_max(0)
        pyvips.block_untrusted_set(True)
        pyvips.operation_block_set("VipsForeignLoad", True)
        for loader in _ALLOWED_LOADERS:
            pyvips.operation_block_set(loader, False)
        _pyvips = pyvips
    return _pyvips


@dataclass(frozen=True, slots=True)
class ImageHeader:
    width: int
    height: int
    format: str
    has_alpha: bool
    frames: int
    orientation: int
    colour_space: str = "srgb"  # libvips' interpretation: srgb, cmyk, b-w ...
    duration_ms: int | None = None  # an animation's one play (its frames' delays summed)
    loops: int | None = None  # an animation's plays; 0: for ever

    @property
    def animated(self) -> bool:
        return self.frames > 1

    def metadata(self) -> dict[str, Any]:
        shown = {
            "format": self.format,
            "has_alpha": self.has_alpha,
            "animated": self.animated,
            "frames": self.frames,
            "colour_space": self.colour_space,
        }
        if self.animated:
            shown["loops"] = self.loops  # its play time is the media's `duration_ms`
        return shown


def shown_delays(delays: list[int] | None, pages: int) -> list[int]:
    """Each frame's delay in ms as browsers show it: absent, zero or up to 10 ms is 100 ms
    (what a GIF "with no delay" plays at everywhere)."""
    given = list(delays or [])[:pages]
    given += [100] * (pages - len(given))
    return [delay if delay and delay > 10 else 100 for delay in given]


def read_header(path: Path, *, max_pixels: int) -> ImageHeader:
    """Dimensions in display orientation, alpha and frame count, refusing pixel bombs."""
    pyvips = vips()
    try:
        image = pyvips.Image.new_from_file(str(path), access="sequential", fail=True)
        fields = set(image.get_fields())
        frames = int(image.get("n-pages")) if "n-pages" in fields else 1
        orientation = int(image.get("orientation")) if "orientation" in fields else 1
        page_height = int(image.get("page-height")) if "page-height" in fields else image.height
        loader = str(image.get("vips-loader")) if "vips-loader" in fields else "unknown"
        delays = list(image.get("delay")) if "delay" in fields else None
        loops = int(image.get("loop")) if "loop" in fields else None
    except pyvips.Error as exc:
        raise MediaProcessingFailed("The image could not be read.", reason=first_line(exc)) from exc
    width, height = int(image.width), int(page_height)
    if frames > _MAX_FRAMES or width * height * max(frames, 1) > max_pixels:
        raise ImageTooLarge(max_pixels=max_pixels, width=width, height=height, frames=frames)
    if orientation in _TRANSPOSED_ORIENTATIONS:
        width, height = height, width
    return ImageHeader(
        width=width,
        height=height,
        format=loader.removesuffix("load").removesuffix("_file") or "unknown",
        has_alpha=bool(image.hasalpha()),
        frames=frames,
        orientation=orientation,
        colour_space=str(image.interpretation),
        duration_ms=sum(shown_delays(delays, frames)) if frames > 1 else None,
        loops=loops if frames > 1 else None,
    )


@dataclass(frozen=True, slots=True)
class DerivedImage:
    path: Path
    width: int
    height: int
    content_type: str


THUMBNAIL_MAX_SIDE = 512


def make_thumbnail(
    source: Path, out_dir: Path, *, max_side: int = THUMBNAIL_MAX_SIDE
) -> DerivedImage:
    """A preview rebuilt from pixels: upright (EXIF orientation applied), first frame of an
    animation, never upscaled, no metadata at all (GPS, XMP and trailing bytes stay behind).

    JPEG, or WebP when the image has transparency. Call `read_header` first: it refuses
    pixel bombs before anything is decoded.
    """
    pyvips = vips()
    try:
        # fail_on="error": broken or truncated pixels fail the asset instead of becoming a
        # grey preview (libvips is lenient by default).
        image = pyvips.Image.thumbnail(str(source), max_side, size="down", fail_on="error")
        if image.interpretation not in ("srgb", "b-w"):
            image = image.colourspace("srgb")
        if image.hasalpha():
            out = out_dir / "thumbnail.webp"
            image.webpsave(str(out), Q=80, keep="none")
            return DerivedImage(out, image.width, image.height, "image/webp")
        out = out_dir / "thumbnail.jpg"
        image.jpegsave(str(out), Q=82, keep="none", optimize_coding=True)
        return DerivedImage(out, image.width, image.height, "image/jpeg")
    except pyvips.Error as exc:
        raise MediaProcessingFailed(
            "The image could not be decoded.", reason=first_line(exc)
        ) from exc


def heif_to_jpeg(source: Path, out_dir: Path, *, max_pixels: int) -> DerivedImage:
    """HEIC/HEIF (HEVC-coded, which this libvips cannot decode) to an upright JPEG through
    pillow-heif; the JPEG becomes the image's usable form. No metadata is carried over."""
    import pillow_heif
    from PIL import Image

    # Pillow only warns between 1x and 2x its pixel limit: make that warning an error.
    warnings.simplefilter("error", Image.DecompressionBombWarning)
    try:
        heif = pillow_heif.open_heif(str(source), convert_hdr_to_8bit=True)
        width, height = heif.size
        if width * height > max_pixels:
            raise ImageTooLarge(max_pixels=max_pixels, width=width, height=height, frames=1)
        Image.MAX_IMAGE_PIXELS = max_pixels
        pillow_heif.register_heif_opener()
        with Image.open(source, formats=["HEIF"]) as opened:  # applies the HEIF orientation
            rgb = opened.convert("RGB")
        out = out_dir / "display.jpg"
        rgb.save(out, "JPEG", quality=90)  # no exif= argument: nothing of the original's metadata
        return DerivedImage(out, rgb.width, rgb.height, "image/jpeg")
    except (ValueError, OSError, RuntimeError) as exc:
        raise MediaProcessingFailed(
            "The HEIF image could not be decoded.", reason=first_line(exc)
        ) from exc


def document_tile(label: str, out_dir: Path, *, side: int = THUMBNAIL_MAX_SIDE) -> DerivedImage:
    """A plain tile naming the document type, for formats nothing here can render."""
    pyvips = vips()
    text = pyvips.Image.text(label, dpi=max(72, side // 2), font="sans bold")
    background = (pyvips.Image.black(side, side, bands=3) + [36, 84, 160]).cast("uchar")  # noqa: RUF005
    ink = (text.new_from_image([255, 255, 255])).bandjoin(text).cast("uchar")
    tile = background.composite2(
        ink.copy(interpretation="srgb"),
        "over",
        x=(side - text.width) // 2,
        y=(side - text.height) // 2,
    ).flatten()
    out = out_dir / "thumbnail.jpg"
    tile.jpegsave(str(out), Q=85, keep="none")
    return DerivedImage(out, side, side, "image/jpeg")


def first_line(exc: Exception) -> str:
    """A library's error as a reason a client may read (see `client_reason`)."""
    return client_reason(str(exc)) or type(exc).__name__
