"""Small helpers the API tests share: waiting for something to happen, and the
signed-upload flow done with raw HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

T = TypeVar("T")


def eventually(
    probe: Callable[[], T],
    until: Callable[[T], object] = bool,
    *,
    timeout: float = 30,
    interval: float = 0.05,
    what: str = "the condition",
) -> T:
    """Call `probe` until `until(result)` holds and return that result; fail the test
    with the last result after `timeout` seconds. The one way tests wait."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if until(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not hold within {timeout} s; last: {result!r}")
        time.sleep(interval)


class PeakMemory:
    """How far this process's peak resident memory rose during a block (the servers under
    test run in this process): `with PeakMemory() as peak: ...; peak.growth`."""

    def __enter__(self) -> PeakMemory:
        Path("/proc/self/clear_refs").write_text("5")  # reset the high-water mark
        self.before = _peak_rss_bytes()
        self.growth = 0
        return self

    def __exit__(self, *_: object) -> None:
        self.growth = _peak_rss_bytes() - self.before


def _peak_rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


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


def get_media(api: httpx.Client, media_id: str) -> dict[str, Any]:
    media: dict[str, Any] = api.get(f"/v1/media/{media_id}").json()
    return media


def wait_settled(api: httpx.Client, media_id: str, timeout: float = 30) -> dict[str, Any]:
    """The media once it is `ready` or `failed`."""
    return eventually(
        lambda: get_media(api, media_id),
        lambda media: media["status"] in ("ready", "failed"),
        timeout=timeout,
        what=f"{media_id} settling",
    )


def wait_variants(api: httpx.Client, media_id: str, timeout: float = 60) -> dict[str, Any]:
    """The variants answer once the variants job has run."""
    return eventually(
        lambda: api.get(f"/v1/media/{media_id}/variants").json(),
        lambda answer: answer["variants_status"] != "pending",
        timeout=timeout,
        interval=0.2,
        what=f"{media_id}'s variants",
    )


def error_of(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/json"), response.text
    error: dict[str, Any] = response.json()["error"]
    assert isinstance(error["code"], str) and isinstance(error["message"], str)
    return error
