"""What every request and every answer gets, whichever route (or FastAPI itself: /docs,
/openapi.json, static files, errors) answers it, in one layer on the outside:

- an id: the client's `X-Request-Id` when sane, else a new one; the answer carries it
  back and every record logged while serving it carries it (jobs it enqueues too:
  medialib/logs.py);
- the security headers (guards/headers.py);
- when it ends, one access record (guards/request_log.py) and its count and duration in
  the metrics.

One layer rather than three: each ASGI layer wraps every request and every message of
its answer, and these run on every call.
"""

from __future__ import annotations

import time

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from medialib import logs, metrics
from medialib.guards.headers import add_security_headers
from medialib.guards.request_log import log_access


class EdgeMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request_id = logs.new_request_id(_header(scope, b"x-request-id"))
        path: str = scope["path"]
        started = time.perf_counter()
        status = 500  # unless an answer starts

        async def send_at_edge(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                add_security_headers(message, path)
                MutableHeaders(scope=message)["X-Request-Id"] = request_id
            await send(message)

        with logs.context(request_id):
            try:
                await self.app(scope, receive, send_at_edge)
            finally:
                elapsed = time.perf_counter() - started
                route = getattr(scope.get("route"), "path", None)
                metrics.count_request(scope["method"], route, status, elapsed)
                log_access(scope["method"], path, status, elapsed * 1000)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None
