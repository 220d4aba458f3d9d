"""Fitting a picture to an aspect ratio: the crop box around a focal point (the user's, or
where libvips' attention-based smart crop looks), in the upright picture's pixels. Pure
arithmetic, apart from `attention_centre`, which reads an image."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


@dataclass(frozen=True, slots=True)
class Box:
    """A crop of the upright picture, in its pixels."""

    left: int
    top: int
    width: int
    height: int


def crop_box(width: int, height: int, ratio: float, centre: tuple[float, float]) -> Box:
    """The largest box of aspect `ratio` inside `width` x `height`, as near as it can be
    to centring on `centre` (fractions of the width and height, 0-1). The cut side is
    rounded down, so a box made for a range's end lands inside it (a 4:5 minimum never
    comes out 0.7998)."""
    if width / height > ratio:  # too wide: keep the height, cut the sides
        box_w, box_h = max(1, min(width, math.floor(height * ratio + 1e-9))), height
    else:  # too tall: keep the width, cut top and bottom
        box_w, box_h = width, max(1, min(height, math.floor(width / ratio + 1e-9)))
    left = _place(centre[0] * width, box_w, width)
    top = _place(centre[1] * height, box_h, height)
    return Box(left, top, box_w, box_h)


def padded_size(width: int, height: int, ratio: float) -> tuple[int, int]:
    """The canvas of aspect `ratio` that holds the whole picture."""
    if width / height > ratio:  # too wide: add above and below
        return width, max(height, round(width / ratio))
    return max(width, round(height * ratio)), height


def _place(centre: float, size: int, whole: int) -> int:
    return int(min(max(round(centre - size / 2), 0), whole - size))


def attention_centre(path: Path) -> tuple[float, float]:
    """Where libvips' attention-based smart crop looks in an image (fractions 0-1), found
    on a small copy (the answer is a position, and 256 px is plenty to find it)."""
    from medialib.processing.images import vips

    small = vips().Image.thumbnail(str(path), 256, fail_on="error")
    if small.hasalpha():
        small = small.flatten(background=[255, 255, 255])
    side = max(1, min(small.width, small.height) // 2)
    _, found = small.smartcrop(
        side, side, interesting="attention", attention_x=True, attention_y=True
    )
    return found["attention_x"] / small.width, found["attention_y"] / small.height
