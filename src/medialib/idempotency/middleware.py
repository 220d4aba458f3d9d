"""`Idempotency-Key` on the calls that create media (IETF httpapi-idempotency-key draft).

The same key with the same request replays the first answer (`Idempotent-Replayed:
true`) and creates nothing; the same key with another request answers 422
`idempotency_key_reused`; while the first still runs, 409 `idempotency_in_progress`.
Keys belong to a workspace and last 24 hours. Only a successful (2xx) answer is kept: a
refusal created nothing, so a retry runs again.

An ASGI middleware, not a dependency, because it must see the whole request body to
fingerprint it and hold the answer back until it is recorded. A request's fingerprint is
its method, path, tus creation headers and body, with a multipart body's boundary (chosen
afresh by a client on every retry) left out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.routing import BaseRoute

from medialib.deps import AppState, authenticated
from medialib.errors import (
    IdempotencyInProgress,
    IdempotencyKeyReused,
    MedialibError,
    Unauthorized,
    ValidationFailed,
)
from medialib.http_errors import error_response
from medialib.idempotency.service import Answer, Claimed, IdempotencyKeys, Running
from medialib.route_marks import IDEMPOTENT_MARK, MarkedRoutes
from medialib.workspaces.keys import api_key_from

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_KEPT_HEADERS = (
    "content-type",
    "location",
    "medialib-media-id",
    "medialib-media-status",
    "tus-resumable",
    "upload-expires",
    "upload-offset",
)
# A tus creation says what it creates in headers, not in a body: they are fingerprinted too.
_FINGERPRINTED_HEADERS = ("upload-length", "upload-metadata", "upload-defer-length")
_MAX_KEY_LENGTH = 255


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, state: AppState, routes: list[BaseRoute]) -> None:
        """`routes`: the application's routes; those marked `IDEMPOTENT` are guarded."""
        self.app = app
        self.state = state
        self.keys = IdempotencyKeys(state.session_factory)
        self._guarded = MarkedRoutes(routes, IDEMPOTENT_MARK)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Costs nothing on requests without the header (most of them).
        if scope["type"] != "http" or not _has_header(scope, b"idempotency-key"):
            return await self.app(scope, receive, send)
        if not self._guarded.match(scope):
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        key = headers["idempotency-key"]
        if not 0 < len(key) <= _MAX_KEY_LENGTH or not key.isprintable() or not key.isascii():
            return await _send_error(
                send,
                ValidationFailed(
                    "Idempotency-Key must be 1-255 printable ASCII characters.",
                    field="Idempotency-Key",
                ),
            )
        try:
            workspace = await authenticated(
                self.state, api_key_from(headers.get("authorization"), headers.get("x-api-key"))
            )
        except Unauthorized:
            return await self.app(scope, receive, send)  # the route answers 401
        claim = await run_in_threadpool(self.keys.claim, workspace.id, key)
        fingerprint = _Fingerprint(scope, headers)
        if isinstance(claim, Running):
            return await _send_error(send, IdempotencyInProgress())
        if isinstance(claim, Answer):
            await _drain(receive, fingerprint)
            if fingerprint.hexdigest() != claim.request_sha256:
                return await _send_error(send, IdempotencyKeyReused())
            return await _replay(send, claim)
        assert isinstance(claim, Claimed)
        await self._run(scope, receive, send, workspace.id, key, fingerprint)

    async def _run(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        workspace_id: str,
        key: str,
        fingerprint: _Fingerprint,
    ) -> None:
        async def hashing_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                fingerprint.update(message.get("body", b""))
            return message

        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        try:
            await self.app(scope, hashing_receive, hold)
        except BaseException:
            await run_in_threadpool(self.keys.release, workspace_id, key)
            raise
        status = next(m["status"] for m in held if m["type"] == "http.response.start")
        if 200 <= status < 300:
            answer = _answer_from(held, fingerprint.hexdigest())
            await run_in_threadpool(self.keys.finish, workspace_id, key, answer)
        else:
            await run_in_threadpool(self.keys.release, workspace_id, key)
        for message in held:
            await send(message)


def _has_header(scope: Scope, name: bytes) -> bool:
    return any(key.lower() == name for key, _ in scope.get("headers", ()))


class _Fingerprint:
    """SHA-256 over method, path, the tus creation headers and the body; a multipart
    boundary is replaced by a constant as the body streams by (a tail the boundary's length
    is held back between chunks)."""

    def __init__(self, scope: Scope, headers: Headers) -> None:
        self._hash = hashlib.sha256(f"{scope['method']} {scope['path']}\n".encode())
        for name in _FINGERPRINTED_HEADERS:
            self._hash.update(f"{name}: {headers.get(name, '')}\n".encode())
        boundary = _boundary(headers.get("content-type", ""))
        self._boundary = b"--" + boundary.encode("latin-1") if boundary else b""
        self._tail = b""

    def update(self, chunk: bytes) -> None:
        if not self._boundary:
            self._hash.update(chunk)
            return
        data = (self._tail + chunk).replace(self._boundary, b"--\0boundary\0")
        keep = len(self._boundary) - 1
        self._hash.update(data[:-keep] if keep < len(data) else b"")
        self._tail = data[-keep:] if keep < len(data) else data

    def hexdigest(self) -> str:
        final = self._hash.copy()
        final.update(self._tail)
        return final.hexdigest()


def _boundary(content_type: str) -> str | None:
    if not content_type.lower().startswith("multipart/"):
        return None
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.strip().partition("=")
        if name.lower() == "boundary" and value:
            return value.strip('"')
    return None


async def _drain(receive: Receive, fingerprint: _Fingerprint) -> None:
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return
        fingerprint.update(message.get("body", b""))
        if not message.get("more_body", False):
            return


def _answer_from(held: list[Message], request_sha256: str) -> Answer:
    start = next(m for m in held if m["type"] == "http.response.start")
    headers = {
        name.decode("latin-1"): value.decode("latin-1")
        for name, value in start.get("headers", [])
        if name.decode("latin-1").lower() in _KEPT_HEADERS
    }
    body = b"".join(m.get("body", b"") for m in held if m["type"] == "http.response.body")
    return Answer(
        request_sha256=request_sha256,
        status=start["status"],
        headers=headers,
        body=body.decode("utf-8"),
    )


async def _replay(send: Send, answer: Answer) -> None:
    body = answer.body.encode("utf-8")
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers.items()]
    headers += [(b"idempotent-replayed", b"true"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _send_error(send: Send, error: MedialibError) -> None:
    response = error_response(error)
    body = bytes(response.body)
    await send(
        {
            "type": "http.response.start",
            "status": response.status_code,
            "headers": [(k.encode(), v.encode()) for k, v in response.headers.items()],
        }
    )
    await send({"type": "http.response.body", "body": body})
