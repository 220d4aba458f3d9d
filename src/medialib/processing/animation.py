"""An animated GIF or WebP as timed video frames, for its MP4: libvips decodes both
(FFmpeg cannot decode animated WebP). Runs in the encoding child (see transcode.py)."""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator


def animation_frames(
    path: str, *, plays: int = 1
) -> tuple[Iterator[tuple[str, Any]], Fraction, bool]:
    """An animated GIF or WebP as timed RGB frames (libvips decodes both; FFmpeg cannot
    decode animated WebP), flattened onto white, each shown for its own delay, the whole
    played `plays` times (a short loop made to last a network's minimum)."""
    import av

    from medialib.processing.images import shown_delays, vips

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
