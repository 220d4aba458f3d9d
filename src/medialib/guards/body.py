"""Every request body is counted as it arrives and cut at a stated limit.

Bodies that are files (routes marked `STREAMS_BODY`: the signed PUT, direct uploads,
tus) stream to storage under caps of their own. Every other body is small by nature
(JSON): it is read here, whole, up to `max_bytes` (1 MB by default), before the route
sees it; past that, 413 `payload_too_large` at once, from Content-Length when it says so.
A route marked `body_max(n)` reads up to its own `n` instead.
A request to the API without any key is refused before its body is read at all.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from starlette.datastructures import Headers
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from medialib.errors import MedialibError, PayloadTooLarge, Unauthorized
from medialib.http_errors import error_response
from medialib.route_marks import BODY_MAX_MARK, STREAMS_BODY_MARK, MarkedRoutes
from medialib.workspaces.keys import api_key_from

Message = MutableMapping[str, Any]
_API_PREFIX = "/v1/"
_NO_BODY = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, routes: list[BaseRoute], max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self._streaming = MarkedRoutes(routes, STREAMS_BODY_MARK)
        self._api = MarkedRoutes(routes, None)
        self._own_cap = MarkedRoutes(routes, BODY_MAX_MARK)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._streaming.match(scope):
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        if _bodiless(headers):  # most requests (every GET): nothing to count or cap
            return await self.app(scope, receive, send)
        try:
            if self._needs_key(scope) and not api_key_from(
                headers.get("authorization"), headers.get("x-api-key")
            ):
                raise Unauthorized()  # nothing to authenticate: the body is not read
            body = await self._read(headers, receive, self._cap_for(scope))
        except MedialibError as refusal:
            return await error_response(refusal)(scope, receive, send)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()  # only a disconnect can come now
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    def _needs_key(self, scope: Scope) -> bool:
        """An API call with a body (unknown paths and methods answer 404 and 405 as usual)."""
        return (
            scope["path"].startswith(_API_PREFIX)
            and scope["method"] not in _NO_BODY
            and self._api.match(scope)
        )

    def _cap_for(self, scope: Scope) -> int:
        route = self._own_cap.route_for(scope)
        if route is None:
            return self.max_bytes
        return max(self.max_bytes, int((route.openapi_extra or {})[BODY_MAX_MARK]))

    async def _read(self, headers: Headers, receive: Receive, cap: int) -> bytes:
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise PayloadTooLarge(max_bytes=cap, size=int(declared))
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away: the route sees what came
            body += message.get("body", b"")
            if len(body) > cap:
                raise PayloadTooLarge(max_bytes=cap, size=len(body))
            if not message.get("more_body", False):
                break
        return bytes(body)


def _bodiless(headers: Headers) -> bool:
    """An HTTP/1.1 request with neither Content-Length nor Transfer-Encoding has no body
    (RFC 9112 §6.3); nor has one that declares a length of 0."""
    if "transfer-encoding" in headers:
        return False
    return headers.get("content-length", "0").strip() == "0"
