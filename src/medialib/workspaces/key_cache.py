"""A short-lived, bounded cache of verified API keys: most requests of a client come in
runs, and hashing and reading the key and its workspace was a database round trip and a
thread hop per request. Only successes are kept.

Revoking a key or deleting a workspace (`medialib keys revoke`, `medialib workspace
delete`) touches a stamp file in the data dir; a cache that sees the stamp change forgets
everything, so on one machine a revoked key stops at once. A process that cannot see the
stamp (another machine) forgets within `ttl` seconds.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import OrderedDict
from pathlib import Path

from medialib.workspaces.models import Workspace

DEFAULT_TTL_SECONDS = 10.0
DEFAULT_ENTRIES = 10_000


STAMP_FILE = "keys-changed"


def touch_stamp(data_dir: Path) -> None:
    """Tell every cache on this machine that keys changed."""
    stamp = data_dir / STAMP_FILE
    stamp.touch()
    os.utime(stamp)


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
        self.stamp = stamp
        self._seen_stamp = self._stamp_time()
        self._found: OrderedDict[str, tuple[float, Workspace]] = OrderedDict()
        self._lock = threading.Lock()

    def _stamp_time(self) -> int:
        try:
            return os.stat(self.stamp).st_mtime_ns if self.stamp else 0
        except FileNotFoundError:
            return 0

    def get(self, key: str) -> Workspace | None:
        digest = _digest(key)
        stamp = self._stamp_time()
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
