"""Rate limits on the API, per API key, and per client address for requests without one.

- A key may make `per_minute` requests a minute (`MEDIALIB_RATE_LIMIT_PER_MINUTE`,
  generous by default; 0 turns limits off). The key is not checked here (that is the
  route's job): requests are counted under what they carry.
- Requests without a key, and requests to routes that take none (tus discovery, CORS
  preflights) whatever key they carry, count per client address, at a fifth: a made-up
  key is no fresh bucket.
- Keys that turn out wrong (401) count against their address too, at a fiftieth. Past
  that, a key from that address is let through only if it is known good (checked: the
  key cache, else one lookup): one client retrying a revoked key cannot lock out
  everyone behind the same NAT or proxy.
- The client address is the peer's, or `X-Forwarded-For` only from the proxies an
  operator names (`MEDIALIB_TRUSTED_PROXIES`, handled by uvicorn before this runs).
- Past a limit: 429 `rate_limited` with `Retry-After`; every limited answer carries
  `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (seconds).

Signed upload URLs are authorised by their signature (single-use) and not counted; the
page and public file URLs are outside `/v1/`.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from medialib.errors import RateLimited
from medialib.guards.counters import WindowCounters
from medialib.http_errors import error_response
from medialib.storage.base import UPLOAD_PATH
from medialib.workspaces.keys import api_key_from

log = logging.getLogger(__name__)
WINDOW_SECONDS = 60
_API_PREFIX = "/v1/"


# Whether a key is one that authenticates (True), for an address past its refused keys.
KeyIsGood = Callable[[str], Awaitable[bool]]


async def _no_key_is_good(_: str) -> bool:
    return False


class RateLimitMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        counters: WindowCounters,
        per_minute: int,
        key_is_good: KeyIsGood = _no_key_is_good,
    ) -> None:
        self.app = app
        self.counters = counters
        self.key_is_good = key_is_good
        self.per_key = per_minute
        self.per_address = max(10, per_minute // 5)
        self.bad_keys = max(10, per_minute // 50)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"] if scope["type"] == "http" else ""
        if not self.per_key or not path.startswith(_API_PREFIX) or path == UPLOAD_PATH:
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        key = api_key_from(headers.get("authorization"), headers.get("x-api-key"))
        if scope.get("method") == "OPTIONS":
            key = None  # a route that takes no key: counted by address, whatever it carries
        address = (scope.get("client") or ("unknown", 0))[0]
        try:
            refused, limit, remaining, reset = await self._count(key, address)
        except Exception:  # the counter store is away: serve, do not fail closed on it
            log.warning("rate limit counters unavailable", exc_info=True)
            return await self.app(scope, receive, send)
        quota = {
            "ratelimit-limit": str(limit),
            "ratelimit-remaining": str(max(0, remaining)),
            "ratelimit-reset": str(reset),
        }
        if refused:
            answer = error_response(
                RateLimited(retry_after=reset, limit=limit, window_seconds=WINDOW_SECONDS)
            )
            answer.headers.update(quota)
            return await answer(scope, receive, send)

        async def send_counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).update(quota)
                if message["status"] == 401 and key:
                    await self._count_bad_key(address)
            await send(message)

        await self.app(scope, receive, send_counted)

    async def _count(self, key: str | None, address: str) -> tuple[bool, int, int, int]:
        if key:
            bad, reset = await self.counters.peek(f"bad:{address}", window=WINDOW_SECONDS)
            if bad >= self.bad_keys and not await self.key_is_good(key):
                return True, self.bad_keys, 0, reset
        if key:
            bucket = "key:" + hashlib.sha256(key.encode()).hexdigest()[:24]
            limit = self.per_key
        else:
            bucket, limit = f"addr:{address}", self.per_address
        count, reset = await self.counters.hit(bucket, window=WINDOW_SECONDS)
        return count > limit, limit, limit - count, reset

    async def _count_bad_key(self, address: str) -> None:
        try:
            await self.counters.hit(f"bad:{address}", window=WINDOW_SECONDS)
        except Exception:
            log.warning("rate limit counters unavailable", exc_info=True)
