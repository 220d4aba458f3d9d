"""The one clock medialib reads for dates it stores and compares (expiries, retention,
trash, leases, idle files). Tests move time by shifting it, never by editing rows: in
process with `shifted(...)`, in another process with `MEDIALIB_CLOCK_OFFSET_SECONDS`
(development and tests only; production refuses it)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager

_offset = dt.timedelta(0)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC) + _offset


def timestamp() -> float:
    """Seconds since the epoch, as `time.time()`, on the same shifted clock."""
    return time.time() + _offset.total_seconds()


def set_offset(offset: dt.timedelta) -> None:
    global _offset
    _offset = offset


@contextmanager
def shifted(offset: dt.timedelta) -> Iterator[None]:
    """Run a block as if it were `offset` later (tests)."""
    before = _offset
    set_offset(before + offset)
    try:
        yield
    finally:
        set_offset(before)
