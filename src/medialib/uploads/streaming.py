"""Moving request bodies to storage without holding them in memory.

Chunks are gathered into ~1 MiB batches and handed to a worker thread (write + hash),
so the event loop never waits on the disk. One batch is in flight while the next is
received: reading the socket and writing the disk overlap, which is what keeps a signed
PUT close to the disk's own speed. Memory stays at two batches whatever the body size.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

from anyio import CapacityLimiter, to_thread

BATCH_BYTES = 1024 * 1024
T = TypeVar("T")


# Short storage calls of the streaming routes (open, commit, abort a writer) at once.
_STORAGE_CALLS = CapacityLimiter(8)


async def on_io_thread(call: Callable[[], T]) -> T:
    """Run a short storage call on a thread, under a bound of its own rather than the
    request threads': queued behind busy sync routes there, a 1 KB signed PUT waited
    0.6 s under load for its three calls. Like every thread call here, it is waited for
    even when the request is cancelled (no abort races a commit)."""
    return await to_thread.run_sync(call, limiter=_STORAGE_CALLS)


class BodyTooLarge(Exception):
    def __init__(self, max_bytes: int, seen: int) -> None:
        super().__init__(f"body over {max_bytes} bytes")
        self.max_bytes = max_bytes
        self.seen = seen


async def pump(
    chunks: AsyncIterator[bytes], sink: Callable[[bytes], None], *, max_bytes: int
) -> int:
    """Feed every chunk to `sink` (called on a thread, in order); stop at `max_bytes`."""
    loop = asyncio.get_running_loop()
    in_flight: asyncio.Future[None] | None = None
    parts: list[bytes] = []
    pending = total = 0
    try:
        async for chunk in chunks:
            total += len(chunk)
            if total > max_bytes:
                raise BodyTooLarge(max_bytes, total)
            parts.append(chunk)
            pending += len(chunk)
            if pending >= BATCH_BYTES:
                if in_flight is not None:
                    await in_flight  # at most one batch waits on the disk
                in_flight = loop.run_in_executor(None, sink, b"".join(parts))
                parts, pending = [], 0
        if in_flight is not None:
            await in_flight
            in_flight = None
        if parts:
            await loop.run_in_executor(None, sink, b"".join(parts))
    finally:
        if in_flight is not None and not in_flight.done():
            # Never leave a write running behind the caller's clean-up (abort).
            with contextlib.suppress(Exception):
                await in_flight
    return total
