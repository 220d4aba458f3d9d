"""A generated file made to the aspect ratio that was asked for.

Providers offer a few sizes (1024x1024, 1536x1024, 1024x1536) or ratios of their own; the
nearest is asked for, and what comes back is cut to the ratio asked: a still by libvips'
attention crop (the picture's own focal point), a video centred (FFmpeg, in the sandboxed
encoder). What was done is said in the media's `metadata.generation.fitted`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from medialib.config import Settings
from medialib.processing import avprobe, images, sniff
from medialib.processing.framing import Box
from medialib.processing.transcode import VideoTarget, encode_mp4
from medialib.storage.base import ObjectBytes, put_file

_SLACK = 0.01  # within 1 % of the ratio asked is that ratio


def fit_to_asked(
    store: ObjectBytes, settings: Settings, key: str, aspect_ratio: str | None
) -> dict[str, Any] | None:
    """Cut the stored result at `key` to `aspect_ratio` ("4:5"); what was done, or None
    when it already had that shape (or none was asked for)."""
    if not aspect_ratio:
        return None
    across, down = (int(part) for part in aspect_ratio.split(":"))
    wanted = across / down
    mime = sniff.sniff(store.read_head(key, sniff.SNIFF_BYTES)) or ""
    kind = sniff.kind_of(mime)
    with store.local_copy(key) as path, tempfile.TemporaryDirectory(prefix="fit-") as work:
        if kind == "image":
            header = images.read_header(path, max_pixels=settings.image_max_pixels)
            width, height = header.width, header.height
        elif kind == "video":
            facts = avprobe.probe(path, mime, timeout_seconds=settings.probe_timeout_seconds)
            width, height = int(facts["width"]), int(facts["height"])
        else:
            return None
        if abs(width / height - wanted) <= _SLACK * wanted:
            return None
        box = _largest_box(width, height, wanted)
        out = Path(work) / ("fitted" + Path(path).suffix)
        if kind == "image":
            _crop_still(path, out, box, mime)
        else:
            out = out.with_suffix(".mp4")
            encode_mp4(
                path,
                mime,
                out,
                VideoTarget(crop=box),
                duration_ms=facts.get("duration_ms"),
                timeout_seconds=settings.job_time_limit_seconds,
            )
            mime = "video/mp4"
        store.delete(key)
        put_file(store, key, out, content_type=mime)
    return {
        "asked": aspect_ratio,
        "from": f"{width}x{height}",
        "to": f"{box.width}x{box.height}",
        "how": "cropped" if kind == "video" else "cropped at its focal point",
    }


def _largest_box(width: int, height: int, wanted: float) -> Box:
    """The largest centred box of ratio `wanted` inside width x height (even sides)."""
    if width / height > wanted:
        cut_w = max(2, int(height * wanted) // 2 * 2)
        return Box(left=(width - cut_w) // 2, top=0, width=cut_w, height=height // 2 * 2)
    cut_h = max(2, int(width / wanted) // 2 * 2)
    return Box(left=0, top=(height - cut_h) // 2, width=width // 2 * 2, height=cut_h)


def _crop_still(path: Path, out: Path, box: Box, mime: str) -> None:
    pyvips = images.vips()
    image = pyvips.Image.new_from_file(str(path), access="random", fail=True).autorot()
    cut = image.smartcrop(box.width, box.height, interesting="attention")
    if mime == "image/png":
        cut.pngsave(str(out), keep="none")
    elif mime == "image/webp":
        cut.webpsave(str(out), Q=92, keep="none")
    else:
        cut.jpegsave(str(out), Q=92, keep="none")
