"""Small helpers the API tests share: the signed-upload flow done with raw HTTP."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx


def request_upload(api: httpx.Client, **body: Any) -> dict[str, Any]:
    response = api.post("/v1/media/upload", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def put_bytes(upload: dict[str, Any], content: bytes, **headers: str) -> httpx.Response:
    return httpx.request(
        upload["method"],
        upload["upload_url"],
        content=content,
        headers={**upload["headers"], **headers},
        timeout=60,
    )


def upload_file(api: httpx.Client, path: Path, **fields: Any) -> dict[str, Any]:
    """request → PUT → confirm; returns the confirmed media object (asserting 200)."""
    upload = request_upload(api, filename=fields.pop("filename", path.name), **fields)
    put = put_bytes(upload, path.read_bytes())
    assert put.status_code == 200, put.text
    confirmed = api.post(f"/v1/media/{upload['id']}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    result: dict[str, Any] = confirmed.json()
    return result


def wait_settled(api: httpx.Client, media_id: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        media: dict[str, Any] = api.get(f"/v1/media/{media_id}").json()
        if media["status"] in ("ready", "failed") or time.monotonic() > deadline:
            return media
        time.sleep(0.1)


def error_of(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/json"), response.text
    error: dict[str, Any] = response.json()["error"]
    assert isinstance(error["code"], str) and isinstance(error["message"], str)
    return error
