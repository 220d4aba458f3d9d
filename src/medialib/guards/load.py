"""Past what the process can take, say so at once instead of stalling everyone.

At most `max_inflight` API requests are in the process at a time (running, or waiting
for a worker thread or a database connection); one more is answered 503
`service_unavailable` with `Retry-After` straight away. Health checks, the page and its
static files never count and are never refused, so `/healthz` answers under any load.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from medialib.errors import ServiceUnavailable
from medialib.http_errors import error_response

_COUNTED_PREFIXES = ("/v1/", "/files/")


class LoadShedMiddleware:
    def __init__(self, app: ASGIApp, *, max_inflight: int) -> None:
        self.app = app
        self.max_inflight = max_inflight
        self.inflight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(_COUNTED_PREFIXES):
            return await self.app(scope, receive, send)
        if self.inflight >= self.max_inflight:
            busy = ServiceUnavailable(
                "The server is at capacity; try again shortly.", reason="busy", retry_after=1
            )
            return await error_response(busy)(scope, receive, send)
        self.inflight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.inflight -= 1
