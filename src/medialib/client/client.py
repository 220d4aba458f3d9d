"""A small synchronous client over httpx for the medialib HTTP API.

`upload()` runs the signed-upload flow (request → PUT → confirm), streaming the file
from disk in chunks and reporting progress through a callback.
"""

from __future__ import annotations

import mimetypes
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

ProgressCallback = Callable[[int, int], None]  # (bytes sent, total bytes)
CHUNK_BYTES = 1024 * 1024
_SETTLED = ("ready", "failed")


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

    def request_upload(self, **fields: Any) -> dict[str, Any]:
        body = {name: value for name, value in fields.items() if value is not None}
        return self._call("POST", "/v1/media/upload", json=body)

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
    ) -> dict[str, Any]:
        """Upload a file and confirm it; returns the media object."""
        path = Path(path)
        size = path.stat().st_size
        content_type = content_type or mimetypes.guess_type(path.name)[0]
        upload = self.request_upload(
            filename=path.name,
            content_type=content_type,
            kind=kind,
            size=size,
            tags=tags,
            description=description,
            tenant_id=tenant_id,
        )
        self.put_bytes(upload, path, progress=progress)
        return self.confirm(upload["id"])

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


def _read_chunks(path: Path, total: int, progress: ProgressCallback | None) -> Iterator[bytes]:
    sent = 0
    if progress:
        progress(0, total)
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            sent += len(chunk)
            yield chunk
            if progress:
                progress(sent, total)


def _raise_for_error(response: httpx.Response) -> None:
    if response.is_success:
        return
    try:
        error = response.json()["error"]
        code, message = str(error.pop("code")), str(error.pop("message", ""))
    except (ValueError, KeyError, TypeError, AttributeError):
        code, message, error = "http_error", response.text[:200], {}
    raise MedialibAPIError(response.status_code, code, message, error)
