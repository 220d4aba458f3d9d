"""The object store contract. Every backend (local disk, S3, in-memory) implements
`ObjectStore` and passes the same contract test (tests/storage/test_contract.py); callers
need nothing that is not declared here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

# Where medialib serves stored objects (`/files/<key>`, whatever the store) and where it
# receives the bytes of upload URLs it signs itself.
FILES_PATH = "/files"
UPLOAD_PATH = "/v1/uploads/local"

# (first, last) byte of a range, both inclusive, as in an HTTP Range header.
ByteRange = tuple[int, int]


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    size: int
    # Known when the store hashed the bytes as they arrived; None means "hash it yourself".
    sha256: str | None = None
    # The type the bytes were written with (for a signed upload: the signed one).
    content_type: str | None = None
    modified: float | None = None  # when it was written (Unix seconds), when the store says


@dataclass(frozen=True, slots=True)
class UploadTarget:
    """Where and how a client sends the bytes: exactly this method, URL and headers."""

    url: str
    method: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class UploadGrant:
    key: str
    workspace_id: str
    content_type: str
    max_bytes: int
    expires_at: dt.datetime
    # The size the client declared, when it did (a store may sign it as exact).
    size: int | None = None


class ObjectWriter(Protocol):
    """A new object being written; invisible to readers until `commit`."""

    def write(self, chunk: bytes) -> None: ...
    def commit(self) -> ObjectInfo: ...
    def abort(self) -> None: ...


class PartialAppend(Protocol):
    """One request's bytes for a resumable upload, under the upload's lock until `close`."""

    start: int
    offset: int

    def write(self, chunk: bytes) -> None: ...
    def commit(self) -> int:
        """Keep what was written (durably); the new offset."""
        ...

    def finish(self, key: str, *, content_type: str) -> ObjectInfo:
        """After a commit that reached the end: the bytes become the object at `key`."""
        ...

    def close(self) -> None:
        """Release the lock; bytes written since the last commit are dropped."""
        ...


class PartialStore(Protocol):
    """Objects that arrive in pieces (tus): each append starts where the last one ended."""

    def start(self, upload_id: str, *, key: str, content_type: str) -> None:
        """A new, empty partial that will become the object at `key`."""
        ...

    def offset(self, upload_id: str) -> int: ...
    def append(self, upload_id: str, *, offset: int) -> PartialAppend:
        """Raises `PartialMissing`, `PartialBusy`, or `OffsetMismatch`."""
        ...

    def discard(self, upload_id: str) -> None: ...

    def idle(self, *, older_than: dt.timedelta) -> list[str]:
        """The ids of partials untouched for longer than `older_than` (gc removes those no
        upload row owns)."""
        ...


class ObjectBytes(Protocol):
    """The objects' bytes: what nearly every caller needs (write, read, stream, copy,
    delete, and the URL a stored object is served at)."""

    def open_writer(
        self, key: str, *, content_type: str, max_bytes: int, exclusive: bool = False
    ) -> ObjectWriter:
        """Write an object from the server side (direct uploads, derived files).

        `exclusive`: the commit fails with `FileExistsError` if the key already exists.
        """
        ...

    def stat(self, key: str) -> ObjectInfo | None: ...

    def read_head(self, key: str, length: int) -> bytes: ...

    def iter_bytes(self, key: str, *, chunk_size: int = 1024 * 1024) -> Iterator[bytes]: ...

    def iter_range(
        self, key: str, byte_range: ByteRange | None, *, chunk_size: int = 1024 * 1024
    ) -> Iterator[bytes]:
        """The object's bytes, or only `byte_range` of them; a missing object raises
        `FileNotFoundError` (at the latest when the first chunk is asked for)."""
        ...

    def file_path(self, key: str) -> Path | None:
        """The object's own file on this machine, when the store keeps one that may be
        served as it is (no copy), else None (stream it with `iter_range`)."""
        ...

    def local_copy(self, key: str) -> AbstractContextManager[Path]:
        """A local file path with the object's bytes, for decoders that need a file."""
        ...

    def copy(self, source_key: str, target_key: str) -> None:
        """Make `target_key` hold the same bytes; the two are independent afterwards.
        FileNotFoundError when `source_key` is missing."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; removing a missing object is not an error."""
        ...

    def public_url(self, key: str) -> str: ...


class UploadSigner(Protocol):
    """Signed targets clients send bytes to directly (a signed PUT, an S3 URL), and the
    partial objects of resumable uploads."""

    @property
    def partials(self) -> PartialStore: ...

    def upload_target(self, grant: UploadGrant) -> UploadTarget:
        """A signed target a client can send the object's bytes to, within the grant."""
        ...

    def upload_origins(self) -> tuple[str, ...]:
        """Origins other than medialib's own that upload targets send clients to (a bucket),
        for the page's Content-Security-Policy and the bucket's CORS rule."""
        ...

    def verify_upload(
        self, method: str, params: Mapping[str, str], *, now: dt.datetime
    ) -> UploadGrant:
        """The grant of an upload URL this store signed for medialib to receive itself (at
        `UPLOAD_PATH`); `Forbidden` when it is altered or expired, or when this store's
        upload URLs point elsewhere (S3 receives its own)."""
        ...


class StoreUpkeep(Protocol):
    """What the garbage collector and the readiness probe need."""

    def sweep(self, *, older_than: dt.timedelta, dry_run: bool = False) -> int:
        """Remove what writes that never finished (a crash, a dropped client) left behind
        longer than `older_than` ago; how many (`dry_run`: count only)."""
        ...

    def iter_objects(self) -> Iterator[tuple[str, float]]:
        """Every stored object's key and when it was last written (epoch seconds), for gc
        to find objects that no media row owns."""
        ...

    def check(self) -> None:
        """Raise when the store cannot be used (for /readyz)."""
        ...


class ObjectStore(ObjectBytes, UploadSigner, StoreUpkeep, Protocol):
    """A whole store (local, S3, memory): the wiring builds one; a caller takes the part it
    needs (most take `ObjectBytes`)."""


def put_file(store: ObjectBytes, key: str, path: Path, *, content_type: str) -> ObjectInfo:
    """Store a local file (a derived image) under `key`; what the store knows of it (its
    SHA-256 too, when the store hashed it on the way: no second read for it)."""
    size = path.stat().st_size
    writer = store.open_writer(key, content_type=content_type, max_bytes=size)
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1024 * 1024):
                writer.write(chunk)
        return writer.commit()
    finally:
        writer.abort()


class ObjectTooLarge(Exception):
    def __init__(self, max_bytes: int, size: int) -> None:
        super().__init__(f"object exceeds {max_bytes} bytes")
        self.max_bytes = max_bytes
        self.size = size


class PartialMissing(Exception):
    """No partial with that id (never made, finished, or removed)."""


class PartialBusy(Exception):
    """Another request is appending to this upload right now (or took it over from this
    one); `retry_after`: seconds until its lease would lapse, as far as the store knows."""

    def __init__(self, upload_id: str, *, retry_after: int = 1) -> None:
        super().__init__(upload_id)
        self.retry_after = retry_after


class OffsetMismatch(Exception):
    def __init__(self, expected: int) -> None:
        super().__init__(f"the upload is at offset {expected}")
        self.expected = expected
