"""The HTTP server medialib runs on (uvicorn), with the limits a public server needs
against slow and oversized clients, set where they can be enforced: in the protocol,
before any request reaches the application.

- Request headers: at most `MAX_HEADER_BYTES` (431 past it) and all of them within
  `HEADER_SECONDS` of the request's first byte, however slowly they trickle in
  (slowloris); the connection is closed otherwise.
- Request bodies: at least `MIN_BODY_BYTES` every `BODY_WINDOW_SECONDS` while the
  application waits for them, else the connection is closed (a body sent a byte at a
  time holds a socket for one window, not for ever). While the server itself is the slow
  side (reading paused by back-pressure), the client is not blamed.
- Idle keep-alive connections close after `timeout_keep_alive`; no `Server` banner.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

MAX_HEADER_BYTES = 64 * 1024
HEADER_SECONDS = 10.0
BODY_WINDOW_SECONDS = 15.0
MIN_BODY_BYTES = 1024
KEEP_ALIVE_SECONDS = 5


class GuardedHttpProtocol(HttpToolsProtocol):
    header_seconds = HEADER_SECONDS
    body_window_seconds = BODY_WINDOW_SECONDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_headers = True
        self._header_bytes = 0
        self._header_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._body_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._body_bytes += len(data)
        super().data_received(data)
        if self._in_headers and self.transport is not None and not self.transport.is_closing():
            self._header_bytes += len(data)
            if self._header_bytes > MAX_HEADER_BYTES:
                self._refuse(431, "headers_too_large", "Request headers too large.")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if not self._in_headers:  # the next request on a kept-alive connection
            self._await_headers()

    def on_headers_complete(self) -> None:
        self._in_headers = False
        self._header_bytes = 0
        if self._header_timer is not None:
            self._header_timer.cancel()
        super().on_headers_complete()
        self._body_bytes = 0
        self._body_timer = self.loop.call_later(self.body_window_seconds, self._check_body)

    def on_message_complete(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None
        super().on_message_complete()

    def _await_headers(self) -> None:
        self._in_headers = True
        self._header_bytes = 0
        if self._header_timer is not None:
            self._header_timer.cancel()
        self._header_timer = self.loop.call_later(self.header_seconds, self._headers_too_slow)

    def _headers_too_slow(self) -> None:
        if self._in_headers and self._header_bytes:
            self._refuse(408, "headers_too_slow", "Request headers took too long.")
        elif self._in_headers:  # nothing of a request yet: the keep-alive time-out's case
            self.transport.close()

    def _check_body(self) -> None:
        self._body_timer = None
        if self.transport is None or self.transport.is_closing():
            return
        if self._body_bytes < MIN_BODY_BYTES and not self.flow.read_paused:
            self.logger.info("closing a connection whose request body stalled")
            self.transport.close()
            return
        self._body_bytes = 0
        self._body_timer = self.loop.call_later(self.body_window_seconds, self._check_body)

    def _refuse(self, status: int, code: str, message: str) -> None:
        """The documented JSON error, then the connection closes (the request never
        reached the application)."""
        body = json.dumps({"error": {"code": code, "message": message}}).encode()
        self.transport.write(
            b"".join(
                [
                    STATUS_LINE[status],
                    b"content-type: application/json\r\n",
                    b"content-length: " + str(len(body)).encode() + b"\r\n",
                    b"connection: close\r\n\r\n",
                    body,
                ]
            )
        )
        self.transport.close()

    def _cancel_timers(self) -> None:
        for timer in (self._header_timer, self._body_timer):
            if timer is not None:
                timer.cancel()


def uvicorn_config(
    app: Any,
    *,
    host: str,
    port: int,
    log_level: str = "info",
    header_seconds: float = HEADER_SECONDS,
    body_window_seconds: float = BODY_WINDOW_SECONDS,
    trusted_proxies: Sequence[str] = (),
) -> uvicorn.Config:
    protocol = type(
        "GuardedHttp",
        (GuardedHttpProtocol,),
        {"header_seconds": header_seconds, "body_window_seconds": body_window_seconds},
    )
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol,
        log_level=log_level,
        log_config=None,  # uvicorn's records go through medialib's handler (JSON or text)
        access_log=False,  # medialib writes its own access line (guards/request_log.py)
        server_header=False,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        lifespan="on",
        # X-Forwarded-For from the operator's proxies only (uvicorn trusts loopback peers
        # by default, so anything on the machine could say it was anyone).
        proxy_headers=bool(trusted_proxies),
        forwarded_allow_ips=",".join(trusted_proxies) if trusted_proxies else "",
    )
