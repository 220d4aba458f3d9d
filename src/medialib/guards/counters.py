"""Request counters in fixed windows that open at each bucket's first request, shared by
every API process when a Redis broker is configured (one pipelined round trip per
request), else kept in this process's memory."""

from __future__ import annotations

import math
import threading
import time
from typing import Protocol


class WindowCounters(Protocol):
    async def hit(self, bucket: str, *, window: int) -> tuple[int, int]:
        """Count one more in the current window: (count so far, seconds until it resets)."""
        ...

    async def peek(self, bucket: str, *, window: int) -> tuple[int, int]:
        """The current window's count without adding to it."""
        ...

    async def aclose(self) -> None: ...


class MemoryCounters:
    """Each bucket's window opens at its first hit, so no wall-clock boundary lets a client
    through twice its limit in a moment; expired buckets are dropped as time passes."""

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[int, float]] = {}  # bucket -> (count, window ends)
        self._lock = threading.Lock()
        self._pruned = 0.0

    async def hit(self, bucket: str, *, window: int) -> tuple[int, int]:
        now = time.monotonic()
        with self._lock:
            self._prune(now)
            count, ends = self._buckets.get(bucket, (0, now + window))
            if ends <= now:
                count, ends = 0, now + window
            self._buckets[bucket] = (count + 1, ends)
        return count + 1, _seconds_left(ends - now)

    async def peek(self, bucket: str, *, window: int) -> tuple[int, int]:
        now = time.monotonic()
        with self._lock:
            count, ends = self._buckets.get(bucket, (0, now + window))
        return (count, _seconds_left(ends - now)) if ends > now else (0, window)

    async def aclose(self) -> None:
        return None

    def _prune(self, now: float) -> None:
        if now - self._pruned < 1:
            return
        self._pruned = now
        for bucket in [b for b, (_, ends) in self._buckets.items() if ends <= now]:
            del self._buckets[bucket]


class RedisCounters:
    """The same windows in Redis: the first hit creates the key with the window as its
    expiry (SET NX EX), every hit counts on it, and its TTL says when it resets."""

    def __init__(self, url: str, *, namespace: str) -> None:
        import redis.asyncio

        self._redis = redis.asyncio.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        self._prefix = f"{namespace}:rate:"

    async def hit(self, bucket: str, *, window: int) -> tuple[int, int]:
        key = f"{self._prefix}{bucket}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(key, 0, ex=window, nx=True)
            pipe.incr(key)
            pipe.ttl(key)
            _, count, ttl = await pipe.execute()
        return int(count), _redis_ttl(ttl, window)

    async def peek(self, bucket: str, *, window: int) -> tuple[int, int]:
        key = f"{self._prefix}{bucket}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.get(key)
            pipe.ttl(key)
            value, ttl = await pipe.execute()
        return int(value or 0), _redis_ttl(ttl, window)

    async def aclose(self) -> None:
        await self._redis.aclose()


def _seconds_left(seconds: float) -> int:
    return max(1, math.ceil(seconds))


def _redis_ttl(ttl: int, window: int) -> int:
    # -1 (no expiry: cannot happen after SET EX) or -2 (gone): a fresh window.
    return int(ttl) if int(ttl) > 0 else window
