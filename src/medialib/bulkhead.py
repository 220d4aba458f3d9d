"""A bulkhead: a bounded place of its own for slow work that waits on the outside world
(URL imports), so it can never take the threads that serve everyone else's requests.

At most `size` calls run at once, each on a worker thread under a capacity limiter of
its own (FastAPI's sync routes use another); at most `queue` more wait for a turn, on
the event loop, holding no thread; beyond that the caller is told at once to come back
later (503 with `Retry-After`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio
from anyio import to_thread

from medialib.errors import ServiceUnavailable

T = TypeVar("T")


class Bulkhead:
    def __init__(self, name: str, *, size: int, queue: int) -> None:
        self.name = name
        self.size = size
        self.queue = queue
        self._limiter: anyio.CapacityLimiter | None = None  # made on the event loop
        self._inflight = 0

    @property
    def inflight(self) -> int:
        """Calls running or waiting for a turn."""
        return self._inflight

    async def run(self, func: Callable[..., T], *args: object) -> T:
        if self._inflight >= self.size + self.queue:
            raise ServiceUnavailable(
                f"Too many {self.name} are in progress; try again shortly.",
                reason="busy",
            )
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.size)
        self._inflight += 1
        try:
            return await to_thread.run_sync(func, *args, limiter=self._limiter)
        finally:
            self._inflight -= 1
