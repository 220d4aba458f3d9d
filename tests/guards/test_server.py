"""The HTTP server's own limits, against real slow and oversized clients on raw sockets:
a slow client holds a socket for a bounded time, never the service."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import RunningServer, running_server

HEADER_SECONDS = 2.0
BODY_WINDOW = 2.0


@pytest.fixture(scope="module")
def guarded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    with running_server(
        request,
        tmp_path_factory,
        "sqlite",
        http_header_seconds=HEADER_SECONDS,
        http_body_window_seconds=BODY_WINDOW,
    ) as server:
        yield server


def _connect(server: RunningServer) -> socket.socket:
    port = int(server.base_url.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    return sock


def _closed_within(sock: socket.socket, seconds: float) -> tuple[bool, bytes]:
    """Whether the server closed the connection within `seconds`, and what it said."""
    sock.settimeout(seconds)
    said = b""
    try:
        while chunk := sock.recv(4096):
            said += chunk
    except TimeoutError:
        return False, said
    except ConnectionResetError:
        pass  # closed with our unread bytes still in its buffer: a reset
    return True, said


def test_headers_sent_a_byte_at_a_time_are_cut_off(guarded: RunningServer) -> None:
    with _connect(guarded) as sock:
        started = time.monotonic()
        request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000
        try:
            for byte in request:
                sock.send(bytes([byte]))
                time.sleep(0.05)
                if time.monotonic() - started > HEADER_SECONDS + 3:
                    break
        except (BrokenPipeError, ConnectionResetError):
            pass
        closed, said = _closed_within(sock, 2)
        assert closed and time.monotonic() - started < HEADER_SECONDS + 4
        assert said.startswith(b"HTTP/1.1 408")
        assert json.loads(said.partition(b"\r\n\r\n")[2])["error"]["code"] == "headers_too_slow"


def test_oversized_headers_are_refused_with_431(guarded: RunningServer) -> None:
    with _connect(guarded) as sock:
        head = b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(head + b"".join(b"X-%d: %s\r\n" % (n, b"v" * 1000) for n in range(200)))
        closed, said = _closed_within(sock, 5)
        assert closed and said.startswith(b"HTTP/1.1 431")
        head, _, body = said.partition(b"\r\n\r\n")
        assert b"content-type: application/json" in head.lower()
        assert json.loads(body)["error"]["code"] == "headers_too_large"


def test_a_body_sent_a_byte_at_a_time_is_cut_off(guarded: RunningServer) -> None:
    key = guarded.new_key()
    with _connect(guarded) as sock:
        sock.sendall(
            b"POST /v1/media/upload HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {key}\r\nContent-Length: 100000\r\n\r\n".encode()
        )
        started = time.monotonic()
        try:
            while time.monotonic() - started < 3 * BODY_WINDOW + 5:
                sock.send(b" ")
                time.sleep(0.1)
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert time.monotonic() - started < 2 * BODY_WINDOW + 2


def test_the_service_answers_others_while_slow_clients_hang_on(guarded: RunningServer) -> None:
    sockets = []
    try:
        for _ in range(50):
            sock = _connect(guarded)
            sock.send(b"POST /v1/media/upload HTTP/1.1\r\nHost: x\r\nContent-Le")
            sockets.append(sock)
        started = time.monotonic()
        assert httpx.get(f"{guarded.base_url}/healthz", timeout=5).status_code == 200
        with guarded.client() as api:
            assert api.get("/v1/media").status_code == 200
        assert time.monotonic() - started < 1.0
    finally:
        for sock in sockets:
            sock.close()


def test_no_server_banner(guarded: RunningServer) -> None:
    answer = httpx.get(f"{guarded.base_url}/healthz")
    assert "server" not in answer.headers


@pytest.mark.parametrize(
    ("path", "html"),
    [
        ("/", True),
        ("/docs", True),
        ("/openapi.json", False),
        ("/healthz", False),
        ("/v1/media", False),  # a 401
        ("/v1/nothing-here", False),  # a 404
        ("/static/app.js", False),
        ("/files/ws/med/t/original", False),
    ],
)
def test_every_answer_carries_the_security_headers(
    guarded: RunningServer, path: str, html: bool
) -> None:
    answer = httpx.get(f"{guarded.base_url}{path}")
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert "server" not in answer.headers
    if html:
        assert answer.headers["content-type"].startswith("text/html")
        policy = answer.headers["content-security-policy"]
        assert "default-src 'none'" in policy or "default-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy and "'unsafe-eval'" not in policy
        assert "camera=()" in answer.headers["permissions-policy"]
