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

BATCH_BYTES = 1024 * 1024


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
