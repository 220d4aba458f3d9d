"""Pictures for an AI edit, and the edit's result put back (libvips; pure).

An edit sends the provider the picture and a mask (transparent where the model may paint:
a region, a drawn mask, or, to extend a picture to another shape, everything outside the
original). Providers paint at a few sizes: the picture is framed in the nearest one's
shape (its edges stretched into the margin, which the mask keeps), and what comes back
is cut to the frame, scaled to the picture's size and laid under the original: every
pixel outside the mask is the original's, exactly. The result is a PNG (lossless: those
pixels stay exact).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medialib.errors import MediaProcessingFailed
from medialib.processing.images import first_line, vips

_LONGEST_SENT = 1536  # the picture is sent at most this large (providers paint ~1024-1536)


@dataclass(frozen=True, slots=True)
class Placement:
    """Where the original sits on the canvas the edit makes (the canvas is the picture
    itself for an edit, larger for an extension)."""

    canvas_width: int
    canvas_height: int
    left: int
    top: int
    width: int
    height: int

    @property
    def added_share(self) -> float:
        """How much of the canvas is new (0 for an edit)."""
        return 1 - (self.width * self.height) / (self.canvas_width * self.canvas_height)


@dataclass(frozen=True, slots=True)
class Region:
    left: int
    top: int
    width: int
    height: int


def extended(width: int, height: int, ratio: float, focal: tuple[float, float]) -> Placement:
    """The canvas of `ratio` that holds the whole width x height picture, the picture
    placed so its focal point is as near the centre as the canvas allows."""
    if width / height < ratio:
        canvas_w, canvas_h = max(width, round(height * ratio)), height
    else:
        canvas_w, canvas_h = width, max(height, round(width / ratio))
    left = int(min(max(canvas_w / 2 - focal[0] * width, 0), canvas_w - width))
    top = int(min(max(canvas_h / 2 - focal[1] * height, 0), canvas_h - height))
    return Placement(canvas_w, canvas_h, left, top, width, height)


def unchanged(width: int, height: int) -> Placement:
    return Placement(width, height, 0, 0, width, height)


def nearest_size(sizes: list[str], ratio: float) -> tuple[int, int]:
    def shape(size: str) -> tuple[int, int]:
        across, down = (int(part) for part in size.lower().split("x"))
        return across, down

    return min((shape(size) for size in sizes), key=lambda s: abs(s[0] / s[1] - ratio))


@dataclass(frozen=True, slots=True)
class Sent:
    """What goes to the provider, and how to read its answer back."""

    image_png: bytes
    mask_png: bytes
    size: tuple[int, int]  # the provider size asked for
    frame: tuple[int, int, int, int]  # the canvas's part of the sent picture: l, t, w, h


def prepare(
    source: Path,
    placement: Placement,
    *,
    region: Region | None,
    mask_png: bytes | None,
    sizes: list[str],
) -> Sent:
    """The picture (on its canvas) and the mask, framed in the nearest provider shape."""
    pyvips = vips()
    try:
        picture = _upright_rgb(source)
        canvas, editable = _canvas(picture, placement, region, mask_png)
        size = nearest_size(sizes, placement.canvas_width / placement.canvas_height)
        sent_w, sent_h = _sent_size(size)
        scale = min(sent_w / placement.canvas_width, sent_h / placement.canvas_height)
        frame_w = min(sent_w, max(1, round(placement.canvas_width * scale)))
        frame_h = min(sent_h, max(1, round(placement.canvas_height * scale)))
        left, top = (sent_w - frame_w) // 2, (sent_h - frame_h) // 2
        small = canvas.resize(frame_w / canvas.width, vscale=frame_h / canvas.height)
        framed = small.embed(left, top, sent_w, sent_h, extend="copy")
        allowed = editable.resize(frame_w / editable.width, vscale=frame_h / editable.height)
        # The mask's alpha: 0 where the model may paint, 255 where it may not (the margin
        # outside the frame included).
        alpha = (allowed > 127).ifthenelse(0, 255).cast("uchar")
        alpha = alpha.embed(left, top, sent_w, sent_h, background=[255])
        mask = framed.bandjoin(alpha)
        image = framed.bandjoin(pyvips.Image.black(sent_w, sent_h) + 255).cast("uchar")
        return Sent(
            image_png=bytes(image.pngsave_buffer(compression=6, keep="none")),
            mask_png=bytes(mask.pngsave_buffer(compression=6, keep="none")),
            size=size,
            frame=(left, top, frame_w, frame_h),
        )
    except pyvips.Error as exc:
        raise MediaProcessingFailed(
            "The picture could not be prepared.", reason=first_line(exc)
        ) from exc


def put_back(
    answer: Path,
    source: Path,
    placement: Placement,
    sent: Sent,
    *,
    region: Region | None,
    mask_png: bytes | None,
    out: Path,
) -> tuple[int, int]:
    """The provider's answer cut to the frame, scaled to the canvas, under the original:
    the edited canvas as a PNG at `out`; its size."""
    pyvips = vips()
    try:
        painted = _upright_rgb(answer)
        sent_w, sent_h = _sent_size(sent.size)
        if (painted.width, painted.height) != (sent_w, sent_h):  # painted at another size
            painted = painted.resize(sent_w / painted.width, vscale=sent_h / painted.height)
        left, top, frame_w, frame_h = sent.frame
        painted = painted.crop(left, top, frame_w, frame_h)
        painted = painted.resize(
            placement.canvas_width / painted.width,
            vscale=placement.canvas_height / painted.height,
            kernel="lanczos3",
        )
        picture = _upright_rgb(source)
        canvas, editable = _canvas(picture, placement, region, mask_png)
        result = (editable > 127).ifthenelse(painted, canvas)
        result.pngsave(str(out), compression=6, keep="none")
        return result.width, result.height
    except pyvips.Error as exc:
        raise MediaProcessingFailed(
            "The edit could not be put together.", reason=first_line(exc)
        ) from exc


def _sent_size(size: tuple[int, int]) -> tuple[int, int]:
    scale = min(_LONGEST_SENT / max(size), 1.0)
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def _upright_rgb(path: Path) -> Any:
    image = vips().Image.new_from_file(str(path), access="random", fail=True).autorot()
    if image.interpretation not in ("srgb", "b-w"):
        image = image.colourspace("srgb")
    if image.hasalpha():
        image = image.flatten(background=[255, 255, 255])
    if image.bands == 1:
        image = image.bandjoin([image, image])
    return image.extract_band(0, n=3).cast("uchar")


def _canvas(
    picture: Any, placement: Placement, region: Region | None, mask_png: bytes | None
) -> tuple[Any, Any]:
    """The picture on its canvas (the margin filled from its edges), and where the model
    may paint: 255 there, 0 elsewhere (one band)."""
    pyvips = vips()
    canvas_w, canvas_h = placement.canvas_width, placement.canvas_height
    if (picture.width, picture.height) != (placement.width, placement.height):
        picture = picture.resize(placement.width / picture.width,
                                 vscale=placement.height / picture.height)  # fmt: skip
    canvas = picture.embed(placement.left, placement.top, canvas_w, canvas_h, extend="copy")
    if placement.added_share > 0:  # an extension: everything outside the original
        kept = pyvips.Image.black(placement.width, placement.height) + 255
        outside = kept.embed(placement.left, placement.top, canvas_w, canvas_h)
        return canvas, (outside < 128).ifthenelse(255, 0).cast("uchar")
    if mask_png is not None:
        drawn = pyvips.Image.new_from_buffer(mask_png, "", access="random")
        if (drawn.width, drawn.height) != (canvas_w, canvas_h):
            raise MediaProcessingFailed(
                f"The mask is {drawn.width}x{drawn.height}; the picture is {canvas_w}x{canvas_h}."
            )
        alpha = drawn.extract_band(drawn.bands - 1) if drawn.hasalpha() else drawn
        return canvas, (alpha < 128).ifthenelse(255, 0).cast("uchar")
    if region is not None:
        inside = pyvips.Image.black(region.width, region.height) + 255
        return canvas, inside.embed(region.left, region.top, canvas_w, canvas_h).cast("uchar")
    return canvas, (pyvips.Image.black(canvas_w, canvas_h) + 255).cast("uchar")
