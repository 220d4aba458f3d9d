"""HDR and wide-gamut video to SDR BT.709, in the encoding child (see transcode.py).

FFmpeg's swscale tone-maps PQ and HLG itself (given `out_transfer`/`out_primaries`), and
well (a red made HDR comes back red), but slowly: ~27 ms a 1080p frame, one thread, with
the GIL held. So swscale's mapping is sampled once per encode into a 65-point 3D LUT
(65³ colours through the same conversion: ~1.3 s, mostly swscale's own set-up, which the
direct way pays too), and the pictures go through FFmpeg's `lut3d` (tetrahedral, slice
threaded): ~8 ms a frame on two cores, within one code value on average of the direct
result. zscale would do this natively; the FFmpeg in PyAV's wheels has no zimg.
"""

from __future__ import annotations

import os
import struct
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Any

# FFmpeg's enums: transfer 16 is PQ (HDR10, Dolby Vision's base layer), 18 HLG; primaries
# 9 BT.2020, 11/12 DCI-P3 and Display P3; 2 is "unspecified" everywhere.
HDR_TRANSFERS = (16, 18)
WIDE_PRIMARIES = (9, 11, 12)
_POINTS = 65  # per axis: 33 is off by ~6 code values on average, 65 by ~1
# One LUT per source colour (primaries, transfer) and FFmpeg build: a handful of files of
# ~6.6 MB at most, kept across encodes (each costs swscale's 1.3 s set-up to make).
CACHE = Path(tempfile.gettempdir()) / "medialib-tone-maps"


def needs_mapping(frame: Any) -> bool:
    """Whether the picture's colour is outside SDR BT.709 (HDR, or wide primaries)."""
    return (
        int(frame.color_trc or 2) in HDR_TRANSFERS
        or int(frame.color_primaries or 2) in WIDE_PRIMARIES
    )


def lut_for(frame: Any) -> Path:
    """The .cube LUT from the frame's R'G'B' (its primaries and transfer, full range) to
    SDR BT.709 R'G'B', sampled from swscale's own conversion; made once per colour."""
    import av

    primaries, transfer = _colour(frame)
    path = CACHE / f"{primaries}-{transfer}-{_POINTS}-ffmpeg{av.ffmpeg_version_info}.cube"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=CACHE, suffix=".part", delete=False) as part:
        part.write(_sampled(primaries, transfer))
    os.replace(part.name, path)  # whole or absent: encodes at once never read half a LUT
    return path


def _colour(frame: Any) -> tuple[int, int]:
    transfer = int(frame.color_trc or 2)
    primaries = int(frame.color_primaries or 2)
    if primaries == 2:  # untagged primaries: HDR is BT.2020 in practice, SDR BT.709
        primaries = 9 if transfer in HDR_TRANSFERS else 1
    return primaries, transfer if transfer != 2 else 1


def _sampled(primaries: int, transfer: int) -> str:
    import av

    size = _POINTS
    width = size * size
    grid = av.VideoFrame(width, size, "rgb48le")
    stride = grid.planes[0].line_size
    levels = [round(i * 65535 / (size - 1)) for i in range(size)]
    rows = []
    for blue in levels:  # row = blue; along it green, and red fastest (the .cube order)
        row = b"".join(struct.pack("<3H", red, green, blue) for green in levels for red in levels)
        rows.append(row.ljust(stride, b"\0"))
    grid.planes[0].update(b"".join(rows))
    grid.color_primaries, grid.color_trc = primaries, transfer
    grid.colorspace, grid.color_range, grid.pts = 0, 2, 0  # RGB, full range
    graph = av.filter.Graph()
    node = graph.add_buffer(
        width=width, height=size, format=av.VideoFormat("rgb48le"), time_base=Fraction(1, 1)
    )
    for name, argument in (
        ("scale", f"{width}:{size}:flags=neighbor:out_primaries=bt709:out_transfer=bt709"),
        ("format", "rgb48le"),
        ("buffersink", ""),
    ):
        following = graph.add(name, argument or None)
        node.link_to(following)
        node = following
    graph.configure()
    graph.push(grid)
    mapped: Any = graph.pull()
    data, stride = bytes(mapped.planes[0]), mapped.planes[0].line_size
    lines = [f"LUT_3D_SIZE {size}"]
    for line in range(size):
        values = struct.unpack_from(f"<{3 * width}H", data, line * stride)
        lines.extend(
            f"{values[i] / 65535:.5f} {values[i + 1] / 65535:.5f} {values[i + 2] / 65535:.5f}"
            for i in range(0, 3 * width, 3)
        )
    return "\n".join(lines) + "\n"
