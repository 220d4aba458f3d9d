"""Giving memory back after work, so a burst leaves the process near where it started.

Measured on five 24 MP photos' variants in one process: resident memory went 84 → 265 MB
and stayed, though nothing was held. Two things kept it: glibc gives each thread that
allocates its own arena (and a worker pool has many threads), and freed blocks stay in
those arenas rather than going back to the system. At most two arenas, and a trim after
each job, leave it at 75 → 97 MB, flat. glibc only (Linux); elsewhere both do nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)

_M_ARENA_MAX = -8  # mallopt's parameter number (glibc's malloc.h)
_ARENAS = 2


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    if libc is None or not hasattr(libc, "malloc_trim") or not hasattr(libc, "mallopt"):
        return None  # not glibc
    return libc


_LIBC = _libc()


def limit_arenas() -> None:
    """At most two malloc arenas for the process (before its worker threads allocate)."""
    if _LIBC is not None:
        _LIBC.mallopt(_M_ARENA_MAX, _ARENAS)


def give_back() -> None:
    """Return the freed memory at the top of every arena to the system (a few ms)."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
