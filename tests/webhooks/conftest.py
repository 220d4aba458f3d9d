"""A real HTTP receiver on loopback, and a server allowed to reach it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from tests.conftest import RunningServer, isolated_server
from tests.helpers import eventually


@dataclass
class Receiver:
    """Records every request; answers with the next queued status (200 when none)."""

    url: str
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    always: int | None = None
    delay: float = 0.0  # seconds to hold each request before answering
    body: bytes = b""  # what each answer carries
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, count: int, timeout: float = 30) -> list[tuple[dict[str, str], bytes]]:
        eventually(
            lambda: len(self.received), lambda n: n >= count, timeout=timeout, what="deliveries"
        )
        return list(self.received)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            target = state["r"]
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            time.sleep(target.delay)
            with target.lock:
                target.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = target.answers.pop(0) if target.answers else (target.always or 200)
            self.send_response(status)
            self.send_header("content-length", str(len(target.body)))
            self.end_headers()
            self.wfile.write(target.body)

        def log_message(self, *_: Any) -> None:
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["r"] = Receiver(url=f"http://127.0.0.1:{http.server_address[1]}/hooks")
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield state["r"]
    http.shutdown()
    http.server_close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def hook_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """Allowed to reach loopback (tests only), with a database of its own so that no other
    server's workers take its deliveries."""
    with isolated_server(
        request,
        tmp_path_factory,
        request.param,
        allow_loopback_targets=True,
        import_allow_http=True,
        webhook_max_attempts=3,
        webhook_disable_after=2,
    ) as server:
        yield server


@pytest.fixture
def api(hook_server: RunningServer) -> Iterator[httpx.Client]:
    with hook_server.client() as client:
        yield client
