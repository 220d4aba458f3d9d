"""Import from a URL: the SSRF rules, and real fetches from an HTTP server on loopback.

Only loopback is reachable here, so the server under test runs with
MEDIALIB_ALLOW_LOOPBACK_TARGETS and plain http allowed (both refused in production);
every other private or special address is refused before any connection is made.
"""

from __future__ import annotations

import gzip
import ipaddress
import ssl
import subprocess
import threading
import time
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from medialib.db import session_scope
from medialib.errors import UrlNotAllowed
from medialib.fetch import FetchPolicy, address_allowed, check_url, vet_host
from medialib.fetch.vetting import ascii_host
from tests.conftest import RunningServer, running_server
from tests.helpers import PeakMemory, error_of, eventually

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


@pytest.mark.parametrize(
    "host", ["127.0.0.1.", "localhost.", "LOCALHOST", "0x7f.1", "2130706433", "[::1]", "::1"]
)
def test_loopback_in_any_spelling_is_refused_as_not_public(host: str) -> None:
    with pytest.raises(UrlNotAllowed) as refused:
        vet_host(host.strip("[]"), 443, STRICT)
    assert refused.value.details["reason"] == "address"


@pytest.mark.parametrize("host", ["::1%lo", "fe80::1%eth0", "::1%25lo"])
def test_addresses_with_a_zone_are_refused(host: str) -> None:
    for policy in (STRICT, DEV):
        with pytest.raises(UrlNotAllowed):
            vet_host(host, 443, policy)


def test_international_names_go_out_in_their_ascii_form() -> None:
    assert ascii_host("Bücher.Example.") == "xn--bcher-kva.example"
    assert ascii_host("例え.テスト") == "xn--r8jz45g.xn--zckzah"
    with pytest.raises(UrlNotAllowed):
        ascii_host("a" * 64 + ".example")  # a label over 63 characters


# --- real fetches -----------------------------------------------------------------------

JPEG = b""
IMPORT_DEADLINE = 3.0


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
        if self.path in ("/slow-headers", "/slow-body"):
            return self._trickle(headers_too=self.path == "/slow-headers")
        if self.path in _ENCODED:
            encodings, body = _ENCODED[self.path]
            return self._send(
                200, body, {"Content-Type": "image/jpeg", "Content-Encoding": encodings}
            )
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

    def _trickle(self, *, headers_too: bool) -> None:
        """A byte every 0.1 s, for as long as the client stays: of the header lines too,
        or of a body that claims a megabyte."""
        head = b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: 1000000\r\n\r\n"
        try:
            if not headers_too:
                self.wfile.write(head)
                head = JPEG
            for _ in range(600):
                for byte in head:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.1)
                head = b"X" * 1000
        except OSError:
            pass

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


_ENCODED: dict[str, tuple[str, bytes]] = {}


def _layers(data: bytes, count: int) -> bytes:
    for _ in range(count):
        data = gzip.compress(data)
    return data


@pytest.fixture(scope="module")
def origin(files_for_import: Path) -> Iterator[str]:
    global JPEG
    JPEG = (files_for_import / "photo.jpg").read_bytes()
    # 50 MB of zeros gzipped twice is a few kilobytes on the wire.
    _ENCODED["/double-gzip"] = ("gzip, gzip", _layers(JPEG[:3] + bytes(50_000_000), 2))
    _ENCODED["/three-layers"] = (
        "gzip, deflate, gzip",
        gzip.compress(zlib.compress(gzip.compress(JPEG))),
    )
    _ENCODED["/four-layers"] = ("gzip, gzip, gzip, gzip", _layers(JPEG, 4))
    _ENCODED["/brotli"] = ("br", JPEG)
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
        import_deadline_seconds=IMPORT_DEADLINE,
        import_concurrency=2,
        import_queue=2,
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
        ("/double-gzip", 413, "payload_too_large"),
        ("/four-layers", 502, "import_failed"),
        ("/brotli", 502, "import_failed"),
        ("/slow-headers", 502, "import_failed"),
        ("/slow-body", 502, "import_failed"),
        ("http://[::1%25lo]/a.jpg", 422, "url_not_allowed"),
        ("http://bücher.invalid/a.jpg", 502, "import_failed"),
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
    started = time.monotonic()
    response = importer.post("/v1/media/import", json={"url": url, "kind": "image"})
    assert time.monotonic() - started < IMPORT_DEADLINE + 2  # nothing outlives the deadline
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


def _gzip_of_zeros(size: int) -> bytes:
    """gzip of `size` zero bytes, made a megabyte at a time (never `size` in memory)."""
    packer = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1024 * 1024)
    packed = [packer.compress(JPEG[:3])]
    packed += [packer.compress(block) for _ in range(size // len(block))]
    return b"".join([*packed, packer.flush()])


def test_a_stacked_compression_bomb_is_cut_at_the_cap_without_inflating_it(
    import_server: RunningServer, importer: httpx.Client, origin: str
) -> None:
    """A few kilobytes on the wire, two gigabytes once both layers are undone."""
    _ENCODED["/giga-bomb"] = ("gzip, gzip", gzip.compress(_gzip_of_zeros(2 * 1024**3)))
    assert len(_ENCODED["/giga-bomb"][1]) < 100_000
    _wait_for_idle_jobs(import_server)
    with PeakMemory() as peak:
        for path in ("import", "import/probe"):
            answer = importer.post(f"/v1/media/{path}", json={"url": f"{origin}/giga-bomb"})
            assert answer.status_code in (200, 413), answer.text
    assert answer.json()["content_type"] == "image/jpeg"  # the probe read only the start
    assert peak.growth < 30 * 1024 * 1024


def test_encodings_in_layers_are_undone_within_the_cap(importer: httpx.Client, origin: str) -> None:
    response = importer.post("/v1/media/import", json={"url": f"{origin}/three-layers"})
    assert response.status_code == 201, response.text
    assert httpx.get(response.json()["url"]).content == JPEG


def _wait_for_idle_jobs(server: RunningServer) -> None:
    """Earlier imports' previews run in this process too: let them finish first."""

    def busy() -> int:
        with session_scope(server.state.session_factory) as session:
            query = text("SELECT count(*) FROM jobs WHERE status IN ('queued', 'running')")
            return int(session.execute(query).scalar() or 0)

    eventually(busy, lambda count: count == 0, what="idle jobs")


def test_slow_origins_cannot_hold_the_service(
    import_server: RunningServer, importer: httpx.Client, origin: str
) -> None:
    """More trickling imports than the import pool takes: the surplus is told to come back
    (503, Retry-After), the rest end at their deadline, and every other request, of any
    workspace, is answered at once meanwhile."""
    answers: list[httpx.Response] = []

    def slow_import() -> None:
        answers.append(importer.post("/v1/media/import", json={"url": f"{origin}/slow-body"}))

    threads = [threading.Thread(target=slow_import) for _ in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    with import_server.client() as other:
        for _ in range(5):
            started = time.monotonic()
            assert httpx.get(f"{import_server.base_url}/healthz", timeout=5).status_code == 200
            assert other.get("/v1/media").status_code == 200
            assert time.monotonic() - started < 1.0
    for thread in threads:
        thread.join(30)
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses.count(503) >= 4 and set(statuses) <= {502, 503}, statuses
    busy = next(answer for answer in answers if answer.status_code == 503)
    assert int(busy.headers["Retry-After"]) > 0 and error_of(busy)["reason"] == "busy"


@pytest.fixture(scope="module")
def self_signed_origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An HTTPS origin on loopback with a certificate nobody signed (openssl made it)."""
    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_a_self_signed_origin_is_named_for_its_certificate(
    importer: httpx.Client, self_signed_origin: str
) -> None:
    answer = importer.post("/v1/media/import", json={"url": f"{self_signed_origin}/photo.jpg"})
    assert answer.status_code == 502
    error = error_of(answer)
    assert error["code"] == "import_failed" and error["reason"] == "certificate"
    assert "certificate is not trusted" in error["message"]
