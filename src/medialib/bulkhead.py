"""A bulkhead: a bounded place of its own for slow work that waits on the outside world
(URL imports, AI providers), so it can never take the threads that serve everyone else's
requests.

At most `size` calls run at once, each on a worker thread of its own (FastAPI's sync
routes use others); at most `queue` more wait for a turn, on the event loop, holding no
thread; beyond that the caller is told at once to come back later (503 with
`Retry-After`). One owner (a workspace) holds at most `per_owner` places, running or
waiting: its burst cannot fill every slot. A call's deadline (`by`, from when its request
arrived) counts its time in the queue: one that waits past it never starts.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import TypeVar

import anyio
from anyio import to_thread

from medialib.errors import ServiceUnavailable

T = TypeVar("T")


class Bulkhead:
    def __init__(self, name: str, *, size: int, queue: int, per_owner: int | None = None) -> None:
        self.name = name
        self.size = size
        self.queue = queue
        self.per_owner = per_owner or max(1, size)
        self._turns: anyio.CapacityLimiter | None = None  # made on the event loop
        self._threads: anyio.CapacityLimiter | None = None
        self._inflight = 0
        self._owners: Counter[str] = Counter()

    @property
    def inflight(self) -> int:
        """Calls running or waiting for a turn."""
        return self._inflight

    async def run(
        self,
        func: Callable[..., T],
        *args: object,
        owner: str | None = None,
        by: float | None = None,
    ) -> T:
        """Run `func(*args)` on a thread of the bulkhead's own, once a turn comes, unless
        `by` (a `time.monotonic()` moment) has passed by then."""
        if self._inflight >= self.size + self.queue:
            raise ServiceUnavailable(
                f"Too many {self.name} are in progress; try again shortly.", reason="busy"
            )
        if owner is not None and self._owners[owner] >= self.per_owner:
            raise ServiceUnavailable(
                f"This workspace has {self.per_owner} {self.name} in progress already; "
                "try again when one has finished.",
                reason="busy",
            )
        if self._turns is None or self._threads is None:
            self._turns = anyio.CapacityLimiter(self.size)
            self._threads = anyio.CapacityLimiter(self.size)
        self._inflight += 1
        if owner is not None:
            self._owners[owner] += 1
        try:
            left = None if by is None else by - time.monotonic()
            try:
                with anyio.fail_after(left if left is None or left > 0 else 0):
                    await self._turns.acquire()
            except TimeoutError as exc:
                raise ServiceUnavailable(
                    f"The {self.name} waited its whole time for a turn; try again shortly.",
                    reason="timeout",
                ) from exc
            try:
                return await to_thread.run_sync(func, *args, limiter=self._threads)
            finally:
                self._turns.release()
        finally:
            self._inflight -= 1
            if owner is not None:
                self._owners[owner] -= 1
                if not self._owners[owner]:
                    del self._owners[owner]
