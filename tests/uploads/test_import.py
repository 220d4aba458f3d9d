"""Import from a URL: the SSRF rules, and real fetches from an HTTP server on loopback.

Only loopback is reachable here, so the server under test runs with
MEDIALIB_ALLOW_LOOPBACK_TARGETS and plain http allowed (both refused in production);
every other private or special address is refused before any connection is made.
"""

from __future__ import annotations

import gzip
import ipaddress
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from medialib.errors import UrlNotAllowed
from medialib.fetch import FetchPolicy, address_allowed, check_url, vet_host
from tests.conftest import RunningServer, running_server
from tests.helpers import error_of

STRICT = FetchPolicy()
DEV = FetchPolicy(allow_http=True, allow_loopback=True)


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/a.jpg",  # http is refused unless allowed
        "ftp://example.com/a.jpg",
        "file:///etc/passwd",
        "https://user:secret@example.com/a.jpg",
        "https:///nohost",
        "https://example.com:99999/a.jpg",
        "javascript:alert(1)",
    ],
)
def test_urls_refused_by_shape(url: str) -> None:
    with pytest.raises(UrlNotAllowed):
        check_url(url, STRICT)


@pytest.mark.parametrize(
    ("address", "allowed_strict", "allowed_dev"),
    [
        ("93.184.216.34", True, True),
        ("2606:4700::6810:85e5", True, True),
        ("127.0.0.1", False, True),
        ("::1", False, True),
        ("10.1.2.3", False, False),
        ("172.16.0.1", False, False),
        ("192.168.1.1", False, False),
        ("169.254.169.254", False, False),
        ("100.64.0.1", False, False),
        ("100.100.100.200", False, False),
        ("0.0.0.0", False, False),  # noqa: S104
        ("fd00:ec2::254", False, False),
        ("fe80::1", False, False),
        ("::ffff:127.0.0.1", False, False),  # IPv4-mapped loopback: never, even in dev
        ("::ffff:10.0.0.1", False, False),
        ("2002:a00:1::", False, False),  # 6to4 wrapping 10.0.0.1
        ("64:ff9b::a9fe:a9fe", False, False),  # NAT64 wrapping 169.254.169.254
        ("224.0.0.1", False, False),
    ],
)
def test_address_rules(address: str, allowed_strict: bool, allowed_dev: bool) -> None:
    ip = ipaddress.ip_address(address)
    assert address_allowed(ip, STRICT) is allowed_strict
    assert address_allowed(ip, DEV) is allowed_dev


def test_names_are_resolved_once_and_every_answer_vetted() -> None:
    with pytest.raises(UrlNotAllowed):
        vet_host("localhost", 443, STRICT)
    assert vet_host("localhost", 443, DEV).is_loopback


# --- real fetches -----------------------------------------------------------------------

JPEG = b""


class _Files(BaseHTTPRequestHandler):
    hits: list[str] = []

    def log_message(self, *_: object) -> None:
        pass

    def do_GET(self) -> None:
        _Files.hits.append(self.path)
        routes = {
            "/photo.jpg": lambda: self._send(200, JPEG, {"Content-Type": "image/jpeg"}),
            "/named": lambda: self._send(
                200,
                JPEG,
                {
                    "Content-Type": "image/jpeg",
                    "Content-Disposition": 'attachment; filename="Holiday photo.jpg"',
                },
            ),
            "/redirect": lambda: self._send(302, b"", {"Location": "/photo.jpg"}),
            "/to-metadata": lambda: self._send(
                302, b"", {"Location": "http://169.254.169.254/latest/meta-data/"}
            ),
            "/loop": lambda: self._send(302, b"", {"Location": "/loop"}),
            "/page.html": lambda: self._send(
                200, b"<html>hi</html>", {"Content-Type": "text/html"}
            ),
            "/missing": lambda: self._send(404, b"no", {}),
            "/bomb": lambda: self._send(
                200,
                gzip.compress(bytes(8_000_000)),
                {"Content-Type": "image/jpeg", "Content-Encoding": "gzip"},
            ),
        }
        if self.path == "/endless":
            return self._endless()
        if self.path == "/hang":
            time.sleep(5)
            return self._send(200, JPEG, {})
        routes.get(self.path, lambda: self._send(404, b"", {}))()
        return None

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _endless(self) -> None:
        """A body with no Content-Length that does not stop at any cap."""
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        block = JPEG[:3] + bytes(64 * 1024 - 3)
        try:
            for _ in range(200):
                self.wfile.write(f"{len(block):x}\r\n".encode() + block + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture(scope="module")
def origin(files_for_import: Path) -> Iterator[str]:
    global JPEG
    JPEG = (files_for_import / "photo.jpg").read_bytes()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def files_for_import(files: Path) -> Path:
    return files


@pytest.fixture(scope="module")
def import_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    with running_server(
        request,
        tmp_path_factory,
        "sqlite",
        allow_loopback_targets=True,
        import_allow_http=True,
        import_max_bytes=2_000_000,
        import_read_timeout_seconds=1.0,
    ) as running:
        yield running


@pytest.fixture
def importer(import_server: RunningServer) -> Iterator[httpx.Client]:
    with import_server.client() as client:
        yield client


def test_import_makes_a_ready_media_with_the_same_bytes(
    importer: httpx.Client, origin: str
) -> None:
    response = importer.post(
        "/v1/media/import", json={"url": f"{origin}/photo.jpg", "tags": ["web"]}
    )
    assert response.status_code == 201, response.text
    media = response.json()
    assert (
        media["status"] == "ready" and media["filename"] == "photo.jpg" and media["tags"] == ["web"]
    )
    assert httpx.get(media["url"]).content == JPEG


def test_import_follows_a_redirect_and_takes_the_servers_filename(
    importer: httpx.Client, origin: str
) -> None:
    assert importer.post("/v1/media/import", json={"url": f"{origin}/redirect"}).status_code == 201
    named = importer.post("/v1/media/import", json={"url": f"{origin}/named"}).json()
    assert named["filename"] == "Holiday photo.jpg"
    renamed = importer.post(
        "/v1/media/import", json={"url": f"{origin}/named", "filename": "mine.jpg"}
    ).json()
    assert renamed["filename"] == "mine.jpg"


def test_probe_tells_what_is_there_and_keeps_nothing(importer: httpx.Client, origin: str) -> None:
    probe = importer.post("/v1/media/import/probe", json={"url": f"{origin}/redirect"})
    assert probe.status_code == 200
    assert probe.json() == {
        "url": f"{origin}/redirect",
        "final_url": f"{origin}/photo.jpg",
        "filename": "photo.jpg",
        "content_type": "image/jpeg",
        "kind": "image",
        "declared_content_type": "image/jpeg",
        "size": len(JPEG),
    }
    assert importer.get("/v1/media").json()["pagination"]["total"] == 0


@pytest.mark.parametrize(
    ("path_or_url", "status", "code"),
    [
        ("/to-metadata", 422, "url_not_allowed"),
        ("/loop", 422, "url_not_allowed"),
        ("http://10.0.0.1/a.jpg", 422, "url_not_allowed"),
        ("http://[::ffff:127.0.0.1]/a.jpg", 422, "url_not_allowed"),
        ("http://user:pw@127.0.0.1/a.jpg", 422, "url_not_allowed"),
        ("/missing", 502, "import_failed"),
        ("/hang", 502, "import_failed"),
        ("/endless", 413, "payload_too_large"),
        ("/bomb", 413, "payload_too_large"),
        ("/page.html", 415, "unsupported_media_type"),
    ],
)
def test_refused_imports_explain_why_and_keep_nothing(
    importer: httpx.Client,
    import_server: RunningServer,
    origin: str,
    path_or_url: str,
    status: int,
    code: str,
) -> None:
    url = path_or_url if "://" in path_or_url else f"{origin}{path_or_url}"
    response = importer.post("/v1/media/import", json={"url": url, "kind": "image"})
    assert response.status_code == status, response.text
    assert error_of(response)["code"] == code
    ready = importer.get("/v1/media", params={"status": "ready"}).json()
    assert ready["pagination"]["total"] == 0
    objects = import_server.settings.resolved_data_dir / "objects"
    assert not list((objects / ".tmp").glob("upload-*"))


def test_a_redirect_to_a_private_address_is_never_followed(
    importer: httpx.Client, origin: str
) -> None:
    _Files.hits.clear()
    response = importer.post("/v1/media/import/probe", json={"url": f"{origin}/to-metadata"})
    assert response.status_code == 422 and error_of(response)["reason"] == "address"
    assert _Files.hits == ["/to-metadata"]


def test_import_needs_a_key_and_a_valid_body(import_server: RunningServer) -> None:
    anonymous = httpx.post(
        f"{import_server.base_url}/v1/media/import", json={"url": "https://example.com/a.jpg"}
    )
    assert anonymous.status_code == 401
    key = import_server.new_key()
    bad = httpx.post(
        f"{import_server.base_url}/v1/media/import", json={"link": "x"}, headers={"X-API-Key": key}
    )
    assert bad.status_code == 422 and error_of(bad)["code"] == "validation_error"
