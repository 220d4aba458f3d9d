"""Image facts from the header alone, through libvips with only the needed loaders.

Opening a file with pyvips reads its header lazily: no pixel is decoded here, so a
decompression bomb is measured and refused before it can cost memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medialib.errors import ImageTooLarge, MediaProcessingFailed

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


def _vips() -> Any:
    """pyvips, imported once with untrusted and unneeded loaders blocked."""
    global _pyvips
    if _pyvips is None:
        import pyvips

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

    @property
    def animated(self) -> bool:
        return self.frames > 1

    def metadata(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "has_alpha": self.has_alpha,
            "animated": self.animated,
            "frames": self.frames,
        }


def read_header(path: Path, *, max_pixels: int) -> ImageHeader:
    """Dimensions in display orientation, alpha and frame count, refusing pixel bombs."""
    pyvips = _vips()
    try:
        image = pyvips.Image.new_from_file(str(path), access="sequential", fail=True)
        fields = set(image.get_fields())
        frames = int(image.get("n-pages")) if "n-pages" in fields else 1
        orientation = int(image.get("orientation")) if "orientation" in fields else 1
        page_height = int(image.get("page-height")) if "page-height" in fields else image.height
        loader = str(image.get("vips-loader")) if "vips-loader" in fields else "unknown"
    except pyvips.Error as exc:
        raise MediaProcessingFailed(
            "The image could not be read.", reason=_first_line(exc)
        ) from exc
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
    )


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
