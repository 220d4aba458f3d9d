"""Request counters in fixed windows, shared by every API process when a Redis broker is
configured (one INCR per request), else kept in this process's memory."""

from __future__ import annotations

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
    def __init__(self) -> None:
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()
        self._pruned = 0

    async def hit(self, bucket: str, *, window: int) -> tuple[int, int]:
        index, reset = _window(window)
        with self._lock:
            self._prune(index)
            count = self._counts.get((bucket, index), 0) + 1
            self._counts[(bucket, index)] = count
        return count, reset

    async def peek(self, bucket: str, *, window: int) -> tuple[int, int]:
        index, reset = _window(window)
        with self._lock:
            return self._counts.get((bucket, index), 0), reset

    async def aclose(self) -> None:
        return None

    def _prune(self, index: int) -> None:
        if index == self._pruned:
            return
        self._pruned = index
        for key in [key for key in self._counts if key[1] < index]:
            del self._counts[key]


class RedisCounters:
    def __init__(self, url: str, *, namespace: str) -> None:
        import redis.asyncio

        self._redis = redis.asyncio.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        self._prefix = f"{namespace}:rate:"

    async def hit(self, bucket: str, *, window: int) -> tuple[int, int]:
        index, reset = _window(window)
        key = f"{self._prefix}{bucket}:{index}"
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.incr(key)
            pipe.expire(key, window * 2)
            count, _ = await pipe.execute()
        return int(count), reset

    async def peek(self, bucket: str, *, window: int) -> tuple[int, int]:
        index, reset = _window(window)
        value = await self._redis.get(f"{self._prefix}{bucket}:{index}")
        return int(value or 0), reset

    async def aclose(self) -> None:
        await self._redis.aclose()


def _window(window: int) -> tuple[int, int]:
    now = int(time.time())
    return now // window, window - now % window
