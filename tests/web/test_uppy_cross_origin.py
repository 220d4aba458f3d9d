"""Uppy (`@uppy/core` + `@uppy/tus`, bundled once: tests/web/vendor/README.md) on a page
served from another origin uploads to medialib over tus, in pieces, with the browser's
web security on: medialib's CORS answers (preflights, exposed `Location` and
`Upload-Offset`) are what makes it work, and an origin not allowed gets nowhere."""

from __future__ import annotations

import base64
import hashlib
import http.server
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import mediafiles
from tests.conftest import RunningServer, free_port, running_server

VENDOR = Path(__file__).parent / "vendor"
BUNDLE_SHA256 = "95c5e7559c28753997652ebd12510cec8c1e79cc578ac361d6f542fbe92d23d8"
PAGE = """<!doctype html><meta charset="utf-8"><title>dashboard</title>
<script src="/uppy-tus.min.js"></script><p>a dashboard on its own origin</p>"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def other_origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second web server on loopback: the dashboard's own origin."""
    folder = tmp_path_factory.mktemp("dashboard")
    (folder / "index.html").write_text(PAGE)
    (folder / "uppy-tus.min.js").write_bytes((VENDOR / "uppy-tus.min.js").read_bytes())
    handler = partial(_Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def medialib(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, other_origin: str
) -> Iterator[RunningServer]:
    with running_server(request, tmp_path_factory, "sqlite", cors_origins=[other_origin]) as server:
        yield server


def test_the_vendored_bundle_is_the_one_documented() -> None:
    digest = hashlib.sha256((VENDOR / "uppy-tus.min.js").read_bytes()).hexdigest()
    assert digest == BUNDLE_SHA256
    assert BUNDLE_SHA256 in (VENDOR / "README.md").read_text()


UPLOAD = """async ({ endpoint, key, b64, chunkSize }) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const uppy = new window.Uppy({ autoProceed: false });
    uppy.use(window.Tus, {
        endpoint, chunkSize, retryDelays: [], headers: { Authorization: `Bearer ${key}` },
    });
    const offsets = [];
    uppy.on("upload-progress", (file, progress) => offsets.push(progress.bytesUploaded));
    uppy.addFile({ name: "big.jpg", type: "image/jpeg", data: new Blob([bytes]) });
    const result = await uppy.upload();
    return {
        ok: result.successful.map((file) => file.tus && file.tus.uploadUrl),
        failed: result.failed.map((file) => String(file.error)),
    };
}"""


def _upload(page: Any, medialib: RunningServer, key: str, data: bytes) -> dict[str, Any]:
    arguments = {
        "endpoint": f"{medialib.base_url}/v1/tus/",
        "key": key,
        "b64": base64.b64encode(data).decode(),
        "chunkSize": 1024 * 1024,
    }
    result: dict[str, Any] = page.evaluate(UPLOAD, arguments)
    return result


def test_uppy_on_another_origin_uploads_in_pieces(
    page: Any, medialib: RunningServer, other_origin: str, tmp_path: Path
) -> None:
    data = mediafiles.noisy_jpeg(tmp_path / "big.jpg").read_bytes()
    assert len(data) > 2 * 1024 * 1024
    page.goto(f"{other_origin}/index.html")
    patches: list[str] = []
    page.on("request", lambda r: patches.append(r.url) if r.method == "PATCH" else None)
    key = medialib.new_key()
    result = _upload(page, medialib, key, data)
    assert result["failed"] == [], result
    assert len(patches) == -(-len(data) // (1024 * 1024))  # one PATCH per 1 MiB piece
    [location] = result["ok"]
    assert location.startswith(f"{medialib.base_url}/v1/tus/upl_")
    with httpx.Client(
        base_url=medialib.base_url, headers={"Authorization": f"Bearer {key}"}
    ) as api:
        [media] = api.get("/v1/media").json()["data"]
    assert media["filename"] == "big.jpg" and media["size"] == len(data)
    assert media["checksum_sha256"] == hashlib.sha256(data).hexdigest()


def test_an_origin_not_allowed_gets_nowhere(
    page: Any, medialib: RunningServer, other_origin: str
) -> None:
    """The same page, reached by another name (another origin to the browser)."""
    elsewhere = other_origin.replace("127.0.0.1", "localhost")
    page.goto(f"{elsewhere}/index.html")
    key = medialib.new_key()
    result = _upload(page, medialib, key, b"\xff\xd8\xff" + b"x" * 5000)
    assert result["ok"] == [] and result["failed"], result
    with httpx.Client(
        base_url=medialib.base_url, headers={"Authorization": f"Bearer {key}"}
    ) as api:
        assert api.get("/v1/media").json()["data"] == []
