"""Moving request bodies to storage without holding them in memory.

Chunks are gathered into ~1 MiB batches and written on a worker thread, so the event
loop never waits on the disk and memory stays flat whatever the body size.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from anyio import to_thread

BATCH_BYTES = 1024 * 1024


class BodyTooLarge(Exception):
    def __init__(self, max_bytes: int, seen: int) -> None:
        super().__init__(f"body over {max_bytes} bytes")
        self.max_bytes = max_bytes
        self.seen = seen


async def pump(
    chunks: AsyncIterator[bytes], sink: Callable[[bytes], None], *, max_bytes: int
) -> int:
    """Feed every chunk to `sink` (called on a thread); stop at `max_bytes`."""
    batch = bytearray()
    total = 0
    async for chunk in chunks:
        total += len(chunk)
        if total > max_bytes:
            raise BodyTooLarge(max_bytes, total)
        batch += chunk
        if len(batch) >= BATCH_BYTES:
            await to_thread.run_sync(sink, bytes(batch))
            batch.clear()
    if batch:
        await to_thread.run_sync(sink, bytes(batch))
    return total
