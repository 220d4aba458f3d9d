"""Animations: an animated GIF or WebP as timed video frames, for its MP4 (libvips decodes
both; FFmpeg cannot decode animated WebP; runs in the encoding child, see transcode.py),
and an animation as a network's animated GIF, within its box, frame and byte caps."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from medialib.errors import MediaProcessingFailed
from medialib.processing.image_variants import variant_box
from medialib.processing.images import DerivedImage, first_line, shown_delays, vips

_ROUNDS = 8  # GIFs made smaller at most this many times to meet a byte cap

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


def animation_frames(
    path: str, *, plays: int = 1
) -> tuple[Iterator[tuple[str, Any]], Fraction, bool]:
    """An animated GIF or WebP as timed RGB frames (libvips decodes both; FFmpeg cannot
    decode animated WebP), flattened onto white, each shown for its own delay, the whole
    played `plays` times (a short loop made to last a network's minimum)."""
    import av

    image = vips().Image.new_from_file(path, n=-1, access="sequential", fail=True)
    fields = set(image.get_fields())
    page_height = int(image.get("page-height")) if "page-height" in fields else image.height
    pages = image.height // page_height
    delays = shown_delays(list(image.get("delay")) if "delay" in fields else None, pages)
    if image.hasalpha():
        image = image.flatten(background=[255, 255, 255])
    image = image.colourspace("srgb") if image.interpretation != "srgb" else image
    image = image.extract_band(0, n=3).bandjoin(255).cast("uchar")  # PyAV reads RGBA
    average = Fraction(1000 * pages, max(1, sum(delays[:pages])))

    def frames() -> Iterator[tuple[str, Any]]:
        data = image.write_to_memory()
        size = image.width * page_height * 4
        at_ms = 0
        for _ in range(max(1, plays)):
            for page in range(pages):
                frame = av.VideoFrame.from_bytes(
                    data[page * size : (page + 1) * size], image.width, page_height, "rgba"
                )
                frame.pts, frame.time_base = at_ms, Fraction(1, 1000)
                at_ms += delays[page]
                yield "video", frame
        # The last frame is shown for its delay too: one more frame marks its end.
        last = av.VideoFrame.from_bytes(
            data[(pages - 1) * size :], image.width, page_height, "rgba"
        )
        last.pts, last.time_base = at_ms - 1, Fraction(1, 1000)
        yield "video", last

    return frames(), average, False


def render_animation(
    source: Path,
    out_dir: Path,
    *,
    max_width: int | None,
    max_height: int | None,
    max_pixels: int | None,
    max_bytes: int | None,
    width: int,
    height: int,
    max_frames: int | None = None,
    max_pixels_times_frames: int | None = None,
) -> DerivedImage:
    """An animation (GIF or animated WebP) as an animated GIF within the box and the caps:
    every frame kept, each with its own delay, unless a frame cap asks for fewer (then
    every n-th, each shown for the frames it stands for: the same play time); pixels are
    given up until it fits the byte cap."""
    pyvips = vips()
    out = out_dir / "variant.gif"
    try:
        frames = _page_count(pyvips, source)
        kept = min(frames, max_frames) if max_frames else frames
        kept_step = math.ceil(frames / kept)
        kept = math.ceil(frames / kept_step)
        area_cap = max_pixels
        if max_pixels_times_frames:
            per_frame = max_pixels_times_frames // max(1, kept)
            area_cap = min(area_cap or per_frame, per_frame)
        box_w, box_h = variant_box(width, height, max_width, max_height, area_cap, None)
        for _ in range(_ROUNDS):
            image = pyvips.Image.thumbnail(
                f"{source}[n=-1]",  # every frame (load options ride on the file name)
                box_w,
                height=box_h,
                size="down",
                fail_on="error",
            )
            image = _every_nth_frame(pyvips, image, kept_step)
            image.gifsave(str(out), keep="none", effort=7)
            size = out.stat().st_size
            if max_bytes is None or size <= max_bytes:
                return DerivedImage(out, image.width, _page_height(image), "image/gif")
            shrink = max(0.3, min(0.9, (max_bytes / size) ** 0.5 * 0.95))
            box_w, box_h = max(1, int(box_w * shrink)), max(1, int(box_h * shrink))
    except pyvips.Error as exc:
        raise MediaProcessingFailed(
            "The animation could not be converted.", reason=first_line(exc)
        ) from exc
    raise MediaProcessingFailed("No variant small enough could be made.", max_bytes=max_bytes)


def _page_count(pyvips: Any, source: Path) -> int:
    header = pyvips.Image.new_from_file(str(source), access="sequential")
    return int(header.get("n-pages")) if "n-pages" in header.get_fields() else 1


def _page_height(image: Any) -> int:
    return int(image.get("page-height")) if "page-height" in image.get_fields() else image.height


def _every_nth_frame(pyvips: Any, image: Any, step: int) -> Any:
    """Frames 0, n, 2n ... of an animation strip, each shown as long as the n it stands
    for (a frame cap met without the animation playing faster)."""
    if step <= 1:
        return image
    page_height = _page_height(image)
    pages = image.height // page_height
    given = list(image.get("delay")) if "delay" in image.get_fields() else None
    delays = shown_delays(given, pages)
    kept = range(0, pages, step)
    strip = pyvips.Image.arrayjoin(
        [image.crop(0, page * page_height, image.width, page_height) for page in kept], across=1
    ).copy()
    strip.set_type(pyvips.GValue.gint_type, "page-height", page_height)
    strip.set_type(
        pyvips.GValue.array_int_type, "delay", [sum(delays[page : page + step]) for page in kept]
    )
    if "loop" in image.get_fields():
        strip.set_type(pyvips.GValue.gint_type, "loop", int(image.get("loop")))
    return strip
