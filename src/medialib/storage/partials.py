"""Partial objects for resumable (tus) uploads on local disk.

A partial is one file under `root/.partial/`, grown by appends that each start exactly
where the file ends. An append holds an exclusive `flock` on the file, so two requests
for one upload never interleave (the second is told the upload is busy); it is fsynced
before it counts, and an append that is given up (checksum mismatch, over-long body) is
cut back off. When the last byte is in, the file is hashed and linked into place as the
object, with the same sidecar as any other write.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import os
import re
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medialib.storage.base import ObjectInfo, OffsetMismatch, PartialBusy, PartialMissing
from medialib.storage.sweep import idle_files

if TYPE_CHECKING:
    from medialib.storage.local import LocalObjectStore

_ID_PATTERN = re.compile(r"^[A-Za-z0-9_]{8,64}$")
_HASH_CACHE_SIZE = 1024


class LocalPartials:
    def __init__(self, store: LocalObjectStore) -> None:
        self._store = store
        self._dir = store.root / ".partial"
        self._dir.mkdir(parents=True, exist_ok=True)
        # SHA-256 of each partial so far, so finishing need not read the file again.
        # Only an optimisation: another process, or a restart, re-hashes instead.
        self._running: OrderedDict[str, tuple[int, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def _path(self, upload_id: str) -> Path:
        if not _ID_PATTERN.fullmatch(upload_id):
            raise PartialMissing(upload_id)
        return self._dir / upload_id

    def start(self, upload_id: str, *, key: str, content_type: str) -> None:
        fd = os.open(self._path(upload_id), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        self._remember(upload_id, 0, hashlib.sha256())

    def offset(self, upload_id: str) -> int:
        try:
            return os.stat(self._path(upload_id), follow_symlinks=False).st_size
        except FileNotFoundError as exc:
            raise PartialMissing(upload_id) from exc

    def append(self, upload_id: str, *, offset: int) -> LocalAppend:
        """Begin appending at `offset`, which must be where the partial ends."""
        try:
            fd = os.open(self._path(upload_id), os.O_WRONLY | os.O_NOFOLLOW)
        except FileNotFoundError as exc:
            raise PartialMissing(upload_id) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(fd)
            raise PartialBusy(upload_id) from exc
        size = os.fstat(fd).st_size
        if size != offset:
            os.close(fd)
            raise OffsetMismatch(size)
        return LocalAppend(self, upload_id, fd, offset, self._running_hash(upload_id, offset))

    def discard(self, upload_id: str) -> None:
        with self._lock:
            self._running.pop(upload_id, None)
        with contextlib.suppress(FileNotFoundError, PartialMissing):
            self._path(upload_id).unlink()

    def idle(self, *, older_than: dt.timedelta) -> list[str]:
        return [path.name for path in idle_files(self._dir, older_than=older_than)]

    def _running_hash(self, upload_id: str, offset: int) -> Any:
        with self._lock:
            known = self._running.get(upload_id)
        return known[1].copy() if known and known[0] == offset else None

    def _remember(self, upload_id: str, offset: int, hasher: Any) -> None:
        with self._lock:
            self._running[upload_id] = (offset, hasher)
            self._running.move_to_end(upload_id)
            while len(self._running) > _HASH_CACHE_SIZE:
                self._running.popitem(last=False)


class LocalAppend:
    """One request's bytes for a partial, under the partial's lock until `close`.

    `commit` keeps what was written; `close` without a commit cuts it back off.
    """

    def __init__(
        self, partials: LocalPartials, upload_id: str, fd: int, offset: int, hasher: Any
    ) -> None:
        self._partials = partials
        self._upload_id = upload_id
        self._fd = fd
        self.start = offset
        self.offset = offset
        self._hasher = hasher
        self._committed = False

    def write(self, chunk: bytes) -> None:
        view = memoryview(chunk)
        while view:
            written = os.pwrite(self._fd, view, self.offset)
            self.offset += written
            view = view[written:]
        if self._hasher is not None:
            self._hasher.update(chunk)

    def commit(self) -> int:
        """Make what was written durable; the partial's new offset."""
        os.fdatasync(self._fd)
        os.posix_fadvise(self._fd, 0, 0, os.POSIX_FADV_DONTNEED)
        if self._hasher is not None:
            self._partials._remember(self._upload_id, self.offset, self._hasher)
        self._committed = True
        return self.offset

    def finish(self, key: str, *, content_type: str) -> ObjectInfo:
        """Make the committed, complete partial the object at `key` (write-once)."""
        assert self._committed
        path = self._partials._path(self._upload_id)
        hasher = self._hasher
        if hasher is None:  # appended by another process, or before a restart
            hasher = hashlib.sha256()
            with open(path, "rb", buffering=0) as handle:
                while chunk := handle.read(4 * 1024 * 1024):
                    hasher.update(chunk)
        store = self._partials._store
        info = store.adopt(key, path, sha256=hasher.hexdigest(), content_type=content_type)
        self._partials.discard(self._upload_id)
        return info

    def close(self) -> None:
        if self._fd < 0:
            return
        if not self._committed:
            os.ftruncate(self._fd, self.start)
            self.offset = self.start
        os.close(self._fd)  # closing releases the flock
        self._fd = -1
