"""An object store in memory, for fast in-process tests of the flows above the store
(confirm, tus, serving) and for trying medialib without a disk. It keeps the whole
contract (tests/storage/test_contract.py), signs its upload URLs like the local store,
and forgets everything when the process ends. Not for real bytes: objects live in RAM.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import secrets
import tempfile
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from medialib import clock
from medialib.storage.base import (
    FILES_PATH,
    UPLOAD_PATH,
    ByteRange,
    ObjectInfo,
    ObjectTooLarge,
    OffsetMismatch,
    PartialBusy,
    PartialMissing,
    UploadGrant,
    UploadTarget,
)
from medialib.storage.signing import SigningKeys, sign, verify


@dataclass
class _Object:
    data: bytes
    content_type: str
    sha256: str
    written: float = field(default_factory=clock.timestamp)


@dataclass
class _Partial:
    data: bytearray = field(default_factory=bytearray)
    busy: bool = False
    touched: float = field(default_factory=clock.timestamp)


class MemoryObjectStore:
    def __init__(self, *, public_base_url: str = "http://127.0.0.1:8000") -> None:
        self.public_base_url = public_base_url.rstrip("/")
        self.signing_keys = SigningKeys(current="mem", keys={"mem": secrets.token_bytes(32)})
        self._objects: dict[str, _Object] = {}
        self._lock = threading.Lock()
        self._partials = MemoryPartials(self)

    @property
    def partials(self) -> MemoryPartials:
        return self._partials

    def keys(self) -> list[str]:
        """Every stored key (tests assert what was left behind)."""
        with self._lock:
            return sorted(self._objects)

    def upload_target(self, grant: UploadGrant) -> UploadTarget:
        query = urlencode(sign(self.signing_keys, "PUT", grant))
        return UploadTarget(
            url=f"{self.public_base_url}{UPLOAD_PATH}?{query}",
            method="PUT",
            headers={"Content-Type": grant.content_type},
        )

    def verify_upload(
        self, method: str, params: Mapping[str, str], *, now: dt.datetime
    ) -> UploadGrant:
        return verify(self.signing_keys, method, dict(params), now=now)

    def upload_origins(self) -> tuple[str, ...]:
        return ()  # medialib receives the bytes itself

    def open_writer(
        self, key: str, *, content_type: str, max_bytes: int, exclusive: bool = False
    ) -> MemoryObjectWriter:
        return MemoryObjectWriter(
            self, key, content_type=content_type, max_bytes=max_bytes, exclusive=exclusive
        )

    def stat(self, key: str) -> ObjectInfo | None:
        with self._lock:
            found = self._objects.get(key)
        if found is None:
            return None
        return ObjectInfo(
            size=len(found.data), sha256=found.sha256, content_type=found.content_type
        )

    def read_head(self, key: str, length: int) -> bytes:
        return self._get(key).data[:length]

    def iter_bytes(self, key: str, *, chunk_size: int = 1024 * 1024) -> Iterator[bytes]:
        return self.iter_range(key, None, chunk_size=chunk_size)

    def iter_range(
        self, key: str, byte_range: ByteRange | None, *, chunk_size: int = 1024 * 1024
    ) -> Iterator[bytes]:
        data = self._get(key).data
        first, last = byte_range if byte_range is not None else (0, len(data) - 1)
        view = memoryview(data)[first : last + 1]
        return (bytes(view[at : at + chunk_size]) for at in range(0, len(view), chunk_size))

    def file_path(self, key: str) -> Path | None:
        return None

    @contextlib.contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        data = self._get(key).data
        with tempfile.TemporaryDirectory(prefix="medialib-mem-") as folder:
            path = Path(folder) / "object"
            path.write_bytes(data)
            yield path

    def copy(self, source_key: str, target_key: str) -> None:
        found = self._get(source_key)
        with self._lock:
            self._objects[target_key] = _Object(found.data, found.content_type, found.sha256)

    def delete(self, key: str) -> None:
        with self._lock:
            self._objects.pop(key, None)

    def public_url(self, key: str) -> str:
        return f"{self.public_base_url}{FILES_PATH}/{key}"

    def sweep(self, *, older_than: dt.timedelta, dry_run: bool = False) -> int:
        return 0  # a write in memory is never half-visible, nor outlives its process

    def iter_objects(self) -> Iterator[tuple[str, float]]:
        with self._lock:
            listed = [(key, found.written) for key, found in self._objects.items()]
        yield from listed

    def check(self) -> None:
        return None

    def _get(self, key: str) -> _Object:
        with self._lock:
            found = self._objects.get(key)
        if found is None:
            raise FileNotFoundError(key)
        return found

    def _put(self, key: str, obj: _Object, *, exclusive: bool) -> None:
        with self._lock:
            if exclusive and key in self._objects:
                raise FileExistsError(key)
            self._objects[key] = obj


class MemoryObjectWriter:
    def __init__(
        self,
        store: MemoryObjectStore,
        key: str,
        *,
        content_type: str,
        max_bytes: int,
        exclusive: bool,
    ) -> None:
        self._store = store
        self._key = key
        self._content_type = content_type
        self._max_bytes = max_bytes
        self._exclusive = exclusive
        self._buffer = bytearray()
        self._done = False

    def write(self, chunk: bytes) -> None:
        if len(self._buffer) + len(chunk) > self._max_bytes:
            self.abort()
            raise ObjectTooLarge(self._max_bytes, len(self._buffer) + len(chunk))
        self._buffer += chunk

    def commit(self) -> ObjectInfo:
        data = bytes(self._buffer)
        sha256 = hashlib.sha256(data).hexdigest()
        self._done = True
        self._store._put(
            self._key, _Object(data, self._content_type, sha256), exclusive=self._exclusive
        )
        return ObjectInfo(size=len(data), sha256=sha256, content_type=self._content_type)

    def abort(self) -> None:
        self._done = True
        self._buffer.clear()


class MemoryPartials:
    def __init__(self, store: MemoryObjectStore) -> None:
        self._store = store
        self._partials: dict[str, _Partial] = {}
        self._lock = threading.Lock()

    def start(self, upload_id: str, *, key: str, content_type: str) -> None:
        with self._lock:
            if upload_id in self._partials:
                raise FileExistsError(upload_id)
            self._partials[upload_id] = _Partial()

    def offset(self, upload_id: str) -> int:
        with self._lock:
            return len(self._partial(upload_id).data)

    def append(self, upload_id: str, *, offset: int) -> MemoryAppend:
        with self._lock:
            partial = self._partial(upload_id)
            if partial.busy:
                raise PartialBusy(upload_id)
            if len(partial.data) != offset:
                raise OffsetMismatch(len(partial.data))
            partial.busy = True
        return MemoryAppend(self, upload_id, partial, offset)

    def discard(self, upload_id: str) -> None:
        with self._lock:
            self._partials.pop(upload_id, None)

    def idle(self, *, older_than: dt.timedelta) -> list[str]:
        cutoff = clock.timestamp() - older_than.total_seconds()
        with self._lock:
            return [i for i, p in self._partials.items() if p.touched < cutoff and not p.busy]

    def _partial(self, upload_id: str) -> _Partial:
        found = self._partials.get(upload_id)
        if found is None:
            raise PartialMissing(upload_id)
        return found


class MemoryAppend:
    def __init__(
        self, partials: MemoryPartials, upload_id: str, partial: _Partial, offset: int
    ) -> None:
        self._partials = partials
        self._upload_id = upload_id
        self._partial = partial
        self.start = offset
        self.offset = offset
        self._pending = bytearray()
        self._closed = False

    def write(self, chunk: bytes) -> None:
        self._pending += chunk
        self.offset += len(chunk)

    def commit(self) -> int:
        self._partial.data += self._pending
        self._partial.touched = clock.timestamp()
        self._pending.clear()
        self.start = self.offset
        return self.offset

    def finish(self, key: str, *, content_type: str) -> ObjectInfo:
        data = bytes(self._partial.data)
        sha256 = hashlib.sha256(data).hexdigest()
        self._partials._store._put(key, _Object(data, content_type, sha256), exclusive=True)
        self._partials.discard(self._upload_id)
        return ObjectInfo(size=len(data), sha256=sha256, content_type=content_type)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._pending.clear()
        self.offset = self.start
        self._partial.busy = False
