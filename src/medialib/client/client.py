"""A small synchronous client over httpx for the medialib HTTP API.

`upload()` runs the signed-upload flow (request → PUT → confirm), streaming the file
from disk in chunks and reporting progress through a callback. Files over
`RESUMABLE_ABOVE` bytes go as a resumable (tus) upload instead: a broken connection is
resumed where the server says it got to, and the stored checksum is checked at the end.
"""

from __future__ import annotations

import hashlib
import mimetypes
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

ProgressCallback = Callable[[int, int], None]  # (bytes sent, total bytes)
CHUNK_BYTES = 1024 * 1024
RESUMABLE_ABOVE = 32 * 1024 * 1024
_SETTLED = ("ready", "failed")
_TUS = {"Tus-Resumable": "1.0.0"}
# Answers after which a resumable upload asks where it got to and goes on.
_RESUME_AFTER = frozenset({409, 423, 500, 502, 503, 504})


# The connection failed (no server, a dropped connection, a time-out): callers catch
# this without importing the HTTP library themselves.
ConnectionFailed = httpx.TransportError


class MedialibAPIError(Exception):
    def __init__(self, status_code: int, code: str, message: str, details: dict[str, Any]):
        super().__init__(f"{status_code} {code}: {message}")
        self.status_code = status_code
        self.code = code
        self.message = message
        self.details = details


class Client:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=timeout,
            transport=transport,
        )
        # Upload URLs may point at another host (object storage): no API key goes there.
        self._bytes = httpx.Client(timeout=httpx.Timeout(timeout, write=None), transport=transport)

    def close(self) -> None:
        self._http.close()
        self._bytes.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def request_upload(
        self, *, idempotency_key: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Ask for an upload URL. The same `idempotency_key` (any unique string, e.g. a
        uuid4) sent again gets the first answer back instead of a second media."""
        body = {name: value for name, value in fields.items() if value is not None}
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return self._call("POST", "/v1/media/upload", json=body, headers=headers)

    def upload(
        self,
        path: str | Path,
        *,
        kind: str | None = None,
        content_type: str | None = None,
        tags: list[str] | None = None,
        description: str | None = None,
        tenant_id: str | None = None,
        progress: ProgressCallback | None = None,
        resumable: bool | None = None,
    ) -> dict[str, Any]:
        """Upload a file and confirm it; returns the media object.

        `resumable`: None (default) chooses by size (over `RESUMABLE_ABOVE`).
        """
        path = Path(path)
        size = path.stat().st_size
        content_type = content_type or mimetypes.guess_type(path.name)[0]
        resumable = size > RESUMABLE_ABOVE if resumable is None else resumable
        fields: dict[str, Any] = {
            "filename": path.name,
            "content_type": content_type,
            "kind": kind,
            "size": size,
            "tags": tags,
            "description": description,
            "tenant_id": tenant_id,
        }
        if resumable:
            upload = self.request_upload(**fields, mode="resumable")
            return self.send_resumable(upload, path, progress=progress)
        upload = self.request_upload(**fields)
        self.put_bytes(upload, path, progress=progress)
        return self.confirm(upload["id"])

    def send_resumable(
        self,
        upload: dict[str, Any],
        path: Path,
        *,
        progress: ProgressCallback | None = None,
        attempts: int = 8,
    ) -> dict[str, Any]:
        """Send a file to a resumable upload, resuming after breaks; returns the media.

        Also resumes an upload an earlier process began: pass the same `upload` answer.
        """
        size = path.stat().st_size
        url = upload["upload_url"]
        digest = _FileDigest(path)
        offset = self._offset(url)
        for attempt in range(attempts):
            try:
                response = self._http.patch(
                    url,
                    content=_read_chunks(path, size, progress, start=offset, digest=digest),
                    headers={**upload["headers"], "Upload-Offset": str(offset)},
                    timeout=httpx.Timeout(self._http.timeout.read, write=None),
                )
                if response.status_code not in _RESUME_AFTER:
                    _raise_for_error(response)
                    break
            except httpx.TransportError:
                if attempt == attempts - 1:
                    raise
            time.sleep(min(0.2 * 2**attempt, 5.0))
            offset = self._offset(url)
        else:
            _raise_for_error(response)
        media = self.get(upload["id"])
        if media.get("checksum_sha256") not in (None, digest.hexdigest()):
            raise MedialibAPIError(0, "checksum_mismatch", "stored bytes differ from the file", {})
        return media

    def _offset(self, url: str) -> int:
        response = self._http.head(url, headers=_TUS)
        _raise_for_error(response)
        return int(response.headers["Upload-Offset"])

    def put_bytes(
        self, upload: dict[str, Any], path: Path, *, progress: ProgressCallback | None = None
    ) -> None:
        size = path.stat().st_size
        headers = {**upload["headers"], "Content-Length": str(size)}
        response = self._bytes.request(
            upload["method"],
            upload["upload_url"],
            content=_read_chunks(path, size, progress),
            headers=headers,
        )
        _raise_for_error(response)

    def ping(self) -> None:
        """Raise `httpx.TransportError` when no medialib answers at the base URL."""
        self._http.get("/healthz").raise_for_status()

    def confirm(self, media_id: str) -> dict[str, Any]:
        return self._call("POST", f"/v1/media/{media_id}/confirm")

    def get(self, media_id: str) -> dict[str, Any]:
        return self._call("GET", f"/v1/media/{media_id}")

    def list(self, **filters: Any) -> dict[str, Any]:
        params = {name: value for name, value in filters.items() if value is not None}
        return self._call("GET", "/v1/media", params=params)

    def update(self, media_id: str, **changes: Any) -> dict[str, Any]:
        return self._call("PATCH", f"/v1/media/{media_id}", json=changes)

    def delete(self, media_id: str) -> dict[str, Any]:
        return self._call("DELETE", f"/v1/media/{media_id}")

    def wait_until_settled(self, media_id: str, *, timeout: float = 60.0) -> dict[str, Any]:
        """Poll until the media is `ready` or `failed`."""
        deadline = time.monotonic() + timeout
        while True:
            media = self.get(media_id)
            if media["status"] in _SETTLED or time.monotonic() > deadline:
                return media
            time.sleep(0.2)

    def _call(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        response = self._http.request(method, url, **kwargs)
        _raise_for_error(response)
        result: dict[str, Any] = response.json()
        return result


def _read_chunks(
    path: Path,
    total: int,
    progress: ProgressCallback | None,
    *,
    start: int = 0,
    digest: _FileDigest | None = None,
) -> Iterator[bytes]:
    sent = start
    if progress:
        progress(sent, total)
    with path.open("rb") as handle:
        handle.seek(start)
        while chunk := handle.read(CHUNK_BYTES):
            if digest is not None:
                digest.update(sent, chunk)
            sent += len(chunk)
            yield chunk
            if progress:
                progress(sent, total)


class _FileDigest:
    """SHA-256 of a file as it is sent, in order; a resume from elsewhere re-reads the
    prefix the server already has, so the final digest is always of the whole file."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._hash = hashlib.sha256()
        self._upto = 0

    def update(self, offset: int, chunk: bytes) -> None:
        if offset < self._upto:
            chunk = chunk[self._upto - offset :]
        elif offset > self._upto:
            self._catch_up(offset)
        self._hash.update(chunk)
        self._upto += len(chunk)

    def _catch_up(self, offset: int) -> None:
        with self._path.open("rb") as handle:
            handle.seek(self._upto)
            while self._upto < offset:
                block = handle.read(min(CHUNK_BYTES, offset - self._upto))
                self._hash.update(block)
                self._upto += len(block)

    def hexdigest(self) -> str:
        self._catch_up(self._path.stat().st_size)
        return self._hash.hexdigest()


def _raise_for_error(response: httpx.Response) -> None:
    if response.is_success:
        return
    try:
        error = response.json()["error"]
        code, message = str(error.pop("code")), str(error.pop("message", ""))
    except (ValueError, KeyError, TypeError, AttributeError):
        code, message, error = "http_error", response.text[:200], {}
    raise MedialibAPIError(response.status_code, code, message, error)
