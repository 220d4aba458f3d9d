"""Every request gets an id (the client's `X-Request-Id` when sane, else a new one) that
its answer carries back and every record logged while serving it carries (jobs it
enqueues too: medialib/logs.py), and one access record when it ends: method, route
path, status and duration."""

from __future__ import annotations

import logging
import time
from collections.abc import MutableMapping
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Receive, Scope, Send

from medialib import logs

Message = MutableMapping[str, Any]
log = logging.getLogger("medialib.access")
_QUIET = ("/healthz", "/readyz", "/metrics")  # probed every few seconds: not worth a line


def _loggable(path: str) -> str:
    """A file URL's path holds its capability token: logs keep workspace and media only."""
    if path.startswith("/files/"):
        return "/".join(path.split("/")[:4]) + "/…"
    return path[:300]


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request_id = logs.new_request_id(Headers(scope=scope).get("x-request-id"))
        started = time.perf_counter()
        status = 500  # unless an answer starts

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableHeaders(scope=message)["X-Request-Id"] = request_id
            await send(message)

        with logs.context(request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                if scope["path"] not in _QUIET:
                    elapsed_ms = (time.perf_counter() - started) * 1000
                    path = _loggable(scope["path"])
                    log.info(
                        "%s %s %d %.1f ms",
                        scope["method"],
                        path,
                        status,
                        elapsed_ms,
                        extra={
                            "method": scope["method"],
                            "path": path,
                            "status": status,
                            "duration_ms": round(elapsed_ms, 1),
                        },
                    )
