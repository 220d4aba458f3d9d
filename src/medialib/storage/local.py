"""Local-disk object store: the embedded default.

Objects live under `root/<key>`; a sidecar `root/.meta/<key>.json` remembers the size,
SHA-256 (hashed while the bytes arrived) and type. Writes go to `root/.tmp`, are fsynced
and renamed into place, so a crash never leaves a partial object visible.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import stat
import tempfile
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlencode

from medialib.storage import diskio
from medialib.storage.base import (
    FILES_PATH,
    UPLOAD_PATH,
    ByteRange,
    ObjectInfo,
    ObjectTooLarge,
    UploadGrant,
    UploadTarget,
)
from medialib.storage.partials import LocalPartials
from medialib.storage.signing import SigningKeys, sign, verify
from medialib.storage.sweep import idle_files

_HASHERS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="medialib-hash")
_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]+(?:/[A-Za-z0-9_.-]+)*$")


class InvalidKey(ValueError):
    pass


class LocalObjectStore:
    def __init__(self, root: Path, *, signing_keys: SigningKeys, public_base_url: str) -> None:
        self.root = root.resolve()
        self.signing_keys = signing_keys
        self.public_base_url = public_base_url.rstrip("/")
        for folder in (self.root, self._tmp_dir, self._meta_root):
            folder.mkdir(parents=True, exist_ok=True)
        self._partials = LocalPartials(self)

    @property
    def partials(self) -> LocalPartials:
        return self._partials

    @property
    def _tmp_dir(self) -> Path:
        return self.root / ".tmp"

    @property
    def _meta_root(self) -> Path:
        return self.root / ".meta"

    def path_for(self, key: str) -> Path:
        """The file for a key, refusing anything that could leave the root."""
        if not _KEY_PATTERN.fullmatch(key) or any(part in ("..", ".") for part in key.split("/")):
            raise InvalidKey(key)
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise InvalidKey(key)
        if key.split("/", 1)[0] in (".tmp", ".meta", ".partial"):
            raise InvalidKey(key)
        return path

    def _meta_path(self, key: str) -> Path:
        self.path_for(key)
        return self._meta_root / f"{key}.json"

    def upload_target(self, grant: UploadGrant) -> UploadTarget:
        self.path_for(grant.key)
        query = urlencode(sign(self.signing_keys, "PUT", grant))
        return UploadTarget(
            url=f"{self.public_base_url}{UPLOAD_PATH}?{query}",
            method="PUT",
            headers={"Content-Type": grant.content_type},
        )

    def upload_origins(self) -> tuple[str, ...]:
        return ()  # medialib receives the bytes itself

    def open_writer(
        self, key: str, *, content_type: str, max_bytes: int, exclusive: bool = False
    ) -> LocalObjectWriter:
        """`exclusive`: refuse to replace an existing object (uploads are write-once)."""
        return LocalObjectWriter(
            self, key, content_type=content_type, max_bytes=max_bytes, exclusive=exclusive
        )

    def stat(self, key: str) -> ObjectInfo | None:
        try:
            info = os.lstat(self.path_for(key))
        except (FileNotFoundError, InvalidKey):
            return None
        if not stat.S_ISREG(info.st_mode):
            return None
        meta = self._read_meta(key)
        # The sidecar counts only while it still describes this very file.
        if meta.get("size") != info.st_size or meta.get("mtime_ns") != info.st_mtime_ns:
            return ObjectInfo(size=info.st_size, modified=info.st_mtime)
        sha256, content_type = meta.get("sha256"), meta.get("content_type")
        return ObjectInfo(
            size=info.st_size,
            sha256=sha256 if isinstance(sha256, str) else None,
            content_type=content_type if isinstance(content_type, str) else None,
            modified=info.st_mtime,
        )

    def _read_meta(self, key: str) -> dict[str, object]:
        try:
            loaded = json.loads(self._meta_path(key).read_text())
        except (OSError, ValueError):
            return {}
        return loaded if isinstance(loaded, dict) else {}

    def open_read(self, key: str) -> BinaryIO:
        fd = os.open(self.path_for(key), os.O_RDONLY | os.O_NOFOLLOW)
        return os.fdopen(fd, "rb")

    def read_head(self, key: str, length: int) -> bytes:
        with self.open_read(key) as handle:
            return handle.read(length)

    def iter_bytes(self, key: str, *, chunk_size: int = 1024 * 1024) -> Iterator[bytes]:
        return self.iter_range(key, None, chunk_size=chunk_size)

    def iter_range(
        self, key: str, byte_range: ByteRange | None, *, chunk_size: int = 1024 * 1024
    ) -> Iterator[bytes]:
        if self.file_path(key) is None:  # a missing object fails at the call
            raise FileNotFoundError(key)
        return self._chunks(key, byte_range, chunk_size)

    def _chunks(self, key: str, byte_range: ByteRange | None, chunk_size: int) -> Iterator[bytes]:
        """Opened on the first chunk, closed with the generator (read or not)."""
        with self.open_read(key) as handle:
            left = -1
            if byte_range is not None:
                handle.seek(byte_range[0])
                left = byte_range[1] - byte_range[0] + 1
            while left != 0:
                chunk = handle.read(chunk_size if left < 0 else min(chunk_size, left))
                if not chunk:
                    return
                left -= len(chunk) if left > 0 else 0
                yield chunk

    def file_path(self, key: str) -> Path | None:
        try:
            path = self.path_for(key)
        except InvalidKey:
            return None
        return path if path.is_file() and not path.is_symlink() else None

    def verify_upload(
        self, method: str, params: Mapping[str, str], *, now: dt.datetime
    ) -> UploadGrant:
        return verify(self.signing_keys, method, dict(params), now=now)

    @contextlib.contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        path = self.path_for(key)
        if not path.is_file() or path.is_symlink():
            raise FileNotFoundError(key)
        yield path

    def adopt(self, key: str, path: Path, *, sha256: str, content_type: str) -> ObjectInfo:
        """Make a finished file of this store's (a complete partial) the object at `key`,
        write-once, by linking it: no copy. The file's own name is its owner's to remove."""
        target = self.path_for(key)
        if os.path.lexists(target):
            raise FileExistsError(key)
        info = os.stat(path, follow_symlinks=False)
        meta = {
            "size": info.st_size,
            "sha256": sha256,
            "mtime_ns": info.st_mtime_ns,
            "content_type": content_type,
        }
        diskio.atomic_write(self._meta_path(key), json.dumps(meta).encode(), self._tmp_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(path, target, follow_symlinks=False)
        diskio.fsync_dir(target.parent)
        return ObjectInfo(size=info.st_size, sha256=sha256, content_type=content_type)

    def copy(self, source_key: str, target_key: str) -> None:
        # A hard link: instant, no extra space, and deleting either name keeps the other.
        source, target = self.path_for(source_key), self.path_for(target_key)
        target.parent.mkdir(parents=True, exist_ok=True)
        meta = self._meta_path(source_key).read_bytes()
        diskio.atomic_write(self._meta_path(target_key), meta, self._tmp_dir)
        os.link(source, target, follow_symlinks=False)
        diskio.fsync_dir(target.parent)

    def delete(self, key: str) -> None:
        for path in (self.path_for(key), self._meta_path(key)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def public_url(self, key: str) -> str:
        return f"{self.public_base_url}{FILES_PATH}/{key}"

    def iter_objects(self) -> Iterator[tuple[str, float]]:
        for folder, subfolders, names in os.walk(self.root):
            if folder == str(self.root):
                subfolders[:] = [name for name in subfolders if not name.startswith(".")]
            for name in names:
                path = Path(folder) / name
                with contextlib.suppress(FileNotFoundError):
                    info = path.lstat()
                    if stat.S_ISREG(info.st_mode):
                        yield path.relative_to(self.root).as_posix(), info.st_mtime

    def sweep(self, *, older_than: dt.timedelta, dry_run: bool = False) -> int:
        """Remove temporary files of writes that never finished (a crash, a dropped client)."""
        idle = idle_files(self._tmp_dir, older_than=older_than)
        for path in idle if not dry_run else []:
            path.unlink(missing_ok=True)
        return len(idle)

    def check(self) -> None:
        with tempfile.NamedTemporaryFile(dir=self._tmp_dir):
            pass


class LocalObjectWriter:
    """Streams to a temporary file, hashing as it goes; `commit` makes it visible at once."""

    def __init__(
        self,
        store: LocalObjectStore,
        key: str,
        *,
        content_type: str,
        max_bytes: int,
        exclusive: bool = False,
    ) -> None:
        self._store = store
        self._key = key
        self._path = store.path_for(key)
        self._content_type = content_type
        self._max_bytes = max_bytes
        self._exclusive = exclusive
        self._hash = hashlib.sha256()
        self.size = 0
        fd, temp_name = tempfile.mkstemp(dir=store._tmp_dir, prefix="upload-")
        self._temp_path = Path(temp_name)
        # Unbuffered: callers hand over MiB-sized batches, and a buffer would only add a copy.
        self._file = os.fdopen(fd, "wb", buffering=0)
        self._direct = diskio.DirectWriter.try_open(self._temp_path)
        self._done = False

    def write(self, chunk: bytes) -> None:
        if self.size + len(chunk) > self._max_bytes:
            self.abort()
            raise ObjectTooLarge(self._max_bytes, self.size + len(chunk))
        # Hash on another thread while this one writes: both release the GIL, so the two
        # run side by side and the upload pays for the slower one only.
        hashed = _HASHERS.submit(self._hash.update, chunk)
        try:
            if self._direct is not None:
                self._direct.write(chunk)
            else:
                diskio.write_all(self._file, chunk)
        finally:
            hashed.result()
        self.size += len(chunk)

    def commit(self) -> ObjectInfo:
        if self._direct is not None:
            self._direct.finish()
        fd = self._file.fileno()
        os.fsync(fd)
        # The bytes are on disk: drop them from the page cache, so that a 5 GB upload does
        # not push everything else out (processing reads only what it needs, later).
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        mtime_ns = os.fstat(fd).st_mtime_ns
        self._file.close()
        sha256 = self._hash.hexdigest()
        meta = {
            "size": self.size,
            "sha256": sha256,
            "mtime_ns": mtime_ns,
            "content_type": self._content_type,
        }
        if self._exclusive and os.path.lexists(self._path):
            self.abort()
            raise FileExistsError(self._key)
        meta_path = self._store._meta_path(self._key)
        diskio.atomic_write(meta_path, json.dumps(meta).encode(), self._store._tmp_dir)
        self._path.parent.mkdir(parents=True, exist_ok=True)
        if self._exclusive:
            try:  # link() never replaces: of two racing uploads, one wins
                os.link(self._temp_path, self._path)
            finally:
                self._temp_path.unlink(missing_ok=True)
        else:
            os.replace(self._temp_path, self._path)
        diskio.fsync_dir(self._path.parent)
        self._done = True
        return ObjectInfo(size=self.size, sha256=sha256, content_type=self._content_type)

    def abort(self) -> None:
        if self._done:
            return
        self._done = True
        with contextlib.suppress(OSError):
            self._file.close()
        if self._direct is not None:
            self._direct.close()
        self._temp_path.unlink(missing_ok=True)
