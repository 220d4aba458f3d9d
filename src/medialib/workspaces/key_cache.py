"""A short-lived, bounded cache of verified API keys: most requests of a client come in
runs, and hashing and reading the key and its workspace was a database round trip and a
thread hop per request. Only successes are kept.

Revoking a key or deleting a workspace (`medialib keys revoke`, `medialib workspace
delete`) writes a new value into a stamp file in the data dir; a cache that sees the value
change forgets everything, so on one machine a revoked key stops at once. A process that
cannot see the stamp (another machine) forgets within `ttl` seconds.

The stamp is read through a shared memory map of the file, not a `stat` per request: a
lookup runs on the event loop, and under load every system call there gives the GIL up
and waits for it back behind the request threads (the stat was a fifth of the loop's
samples at 16 clients, docs/decisions.md "No file on the event loop"). Writers change the
file's bytes in place, so every map sees them at once.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import threading
import time
from collections import OrderedDict
from pathlib import Path

from medialib.workspaces.models import Workspace

DEFAULT_TTL_SECONDS = 10.0
DEFAULT_ENTRIES = 10_000


STAMP_FILE = "keys-changed"
_STAMP_BYTES = 8


def touch_stamp(data_dir: Path) -> None:
    """Tell every cache on this machine that keys changed: a new value, written in place
    (never a new file, which a map of the old one would not see)."""
    fd = os.open(data_dir / STAMP_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        os.pwrite(fd, time.time_ns().to_bytes(_STAMP_BYTES, "little"), 0)
    finally:
        os.close(fd)


def _map_stamp(stamp: Path) -> mmap.mmap | None:
    """The stamp file mapped for reading, made first if there is none (or an older,
    empty one). None where it cannot be: then only the time-to-live ends entries."""
    try:
        fd = os.open(stamp, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        return None
    try:
        if os.fstat(fd).st_size < _STAMP_BYTES:
            os.pwrite(fd, bytes(_STAMP_BYTES), 0)
        return mmap.mmap(fd, _STAMP_BYTES, access=mmap.ACCESS_READ)
    except OSError:
        return None
    finally:
        os.close(fd)


class KeyCache:
    def __init__(
        self,
        *,
        ttl: float = DEFAULT_TTL_SECONDS,
        entries: int = DEFAULT_ENTRIES,
        stamp: Path | None = None,
    ) -> None:
        self.ttl = ttl
        self.entries = entries
        self._stamp_map = _map_stamp(stamp) if stamp else None
        self._seen_stamp = self._stamp_value()
        self._found: OrderedDict[str, tuple[float, Workspace]] = OrderedDict()
        self._lock = threading.Lock()

    def _stamp_value(self) -> bytes:
        return self._stamp_map[:_STAMP_BYTES] if self._stamp_map is not None else b""

    def get(self, key: str) -> Workspace | None:
        digest = _digest(key)
        stamp = self._stamp_value()
        with self._lock:
            if stamp != self._seen_stamp:
                self._seen_stamp = stamp
                self._found.clear()
            found = self._found.get(digest)
            if found is None:
                return None
            if found[0] < time.monotonic():
                del self._found[digest]
                return None
            self._found.move_to_end(digest)
            return found[1]

    def put(self, key: str, workspace: Workspace) -> None:
        with self._lock:
            self._found[_digest(key)] = (time.monotonic() + self.ttl, workspace)
            self._found.move_to_end(_digest(key))
            while len(self._found) > self.entries:
                self._found.popitem(last=False)

    def forget(self, key: str) -> None:
        with self._lock:
            self._found.pop(_digest(key), None)

    def clear(self) -> None:
        with self._lock:
            self._found.clear()


def _digest(key: str) -> str:
    # Keys are never held in clear, not even in memory's own cache.
    return hashlib.sha256(key.encode()).hexdigest()
