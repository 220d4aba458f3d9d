"""Writing files durably on local disk: the aligned O_DIRECT writer for large uploads,
whole writes, atomic small files and directory fsyncs (used by the local store)."""

from __future__ import annotations

import mmap
import os
import tempfile
from pathlib import Path
from typing import BinaryIO


def write_all(handle: BinaryIO, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:  # a raw write may take less than all it is given
        written = handle.write(view)
        view = view[written or 0 :]


class DirectWriter:
    """Large uploads bypass the page cache (O_DIRECT): no kernel copy into the cache and no
    reclaim later, which is most of a PUT's CPU on a small machine. O_DIRECT wants aligned
    buffers and lengths, so bytes go through an aligned buffer and whole blocks are
    written; the last partial block is written through the cache by `finish`."""

    _ALIGN = 4096
    _BUFFER = 4 * 1024 * 1024

    def __init__(self, fd: int, path: Path) -> None:
        self._fd = fd
        self._path = path
        self._buffer = mmap.mmap(-1, self._BUFFER)  # page-aligned memory
        self._filled = 0

    @classmethod
    def try_open(cls, path: Path) -> DirectWriter | None:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_DIRECT)
        except (OSError, AttributeError):  # tmpfs and some filesystems refuse O_DIRECT
            return None
        return cls(fd, path)

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            take = min(len(view), self._BUFFER - self._filled)
            self._buffer[self._filled : self._filled + take] = view[:take]
            self._filled += take
            view = view[take:]
            if self._filled == self._BUFFER:
                os.write(self._fd, self._buffer)
                self._filled = 0

    def finish(self) -> None:
        """Write what is left: whole blocks directly, the tail through the cache."""
        whole = self._filled - self._filled % self._ALIGN
        if whole:
            os.write(self._fd, memoryview(self._buffer)[:whole])
        tail = bytes(self._buffer[whole : self._filled])
        self.close()
        if tail:
            with open(self._path, "r+b", buffering=0) as handle:
                handle.seek(0, os.SEEK_END)
                write_all(handle, tail)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        self._buffer.close()


def atomic_write(path: Path, content: bytes, tmp_dir: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=tmp_dir, prefix="meta-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp_name, path)
    fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
