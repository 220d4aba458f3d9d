"""The box layout of an MP4/QuickTime file, read from its bytes: whether `moov` (the index)
comes before `mdat` (the media), which streaming players and Meta's upload checks want,
and whether any track carries an edit list (`edts/elst`), which Threads and Instagram
refuse. Only box headers are read (seeking over payloads), with a bound on how many, so a
hostile file costs a few hundred small reads at most.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from pathlib import Path

_MOST_BOXES = 4096
# Boxes whose payload is a list of boxes, on the way from `moov` to `elst`.
_CONTAINERS = {b"moov", b"trak", b"edts"}


@dataclass(frozen=True, slots=True)
class Mp4Layout:
    moov_first: bool  # `moov` precedes the first `mdat` ("faststart")
    edit_lists: bool  # some track has an `elst` box


def read_layout(path: Path) -> Mp4Layout | None:
    """The layout, or None when the file is not a readable sequence of boxes."""
    try:
        with path.open("rb") as file:
            size = path.stat().st_size
            seen: list[bytes] = []
            if not _walk(file, 0, size, seen, depth=0):
                return None
    except OSError:
        return None
    if b"moov" not in seen:
        return None
    mdat_at = seen.index(b"mdat") if b"mdat" in seen else len(seen)
    return Mp4Layout(moov_first=seen.index(b"moov") < mdat_at, edit_lists=b"elst" in seen)


def _walk(file: BinaryIO, start: int, end: int, seen: list[bytes], *, depth: int) -> bool:
    """Record box types in file order (top level and the containers above); False when a
    header is malformed."""
    at = start
    while at + 8 <= end:
        if len(seen) >= _MOST_BOXES:
            return True
        file.seek(at)
        header = file.read(8)
        if len(header) < 8:
            return False
        size, kind = struct.unpack(">I4s", header)
        header_size = 8
        if size == 1:
            large = file.read(8)
            if len(large) < 8:
                return False
            size = struct.unpack(">Q", large)[0]
            header_size = 16
        elif size == 0:
            size = end - at  # to the end of the enclosing box
        if size < header_size or at + size > end:
            return False
        if depth == 0 or kind in _CONTAINERS or kind == b"elst":
            seen.append(kind)
        nested = kind in _CONTAINERS and depth < 4
        if nested and not _walk(file, at + header_size, at + size, seen, depth=depth + 1):
            return False
        at += size
    return True
