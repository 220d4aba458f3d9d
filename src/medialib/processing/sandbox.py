"""Run a decoder in a bounded child process: CPU, address-space and wall-clock limits.
A hostile file can crash or hang only the child, which is killed on time-out.

Children are forked from a multiprocessing fork server that has PyAV and the decoder
modules imported already, so a child starts in milliseconds instead of paying for a
fresh interpreter and FFmpeg's initialisation on every file (or for the parent's main
script, run again in every child: see child_main.py); each file still gets a process of
its own. Limits are set in the child before it touches the file.
"""

from __future__ import annotations

import multiprocessing
import resource
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from medialib.errors import MediaProcessingFailed, client_reason

DEFAULT_MEMORY_BYTES = 1536 * 1024 * 1024
_PRELOAD = [
    "medialib.processing.child_main",  # first: children skip re-running the main script
    "av",
    "medialib.processing.avprobe",
    "medialib.processing.frames",
    "medialib.processing.documents",
    "medialib.processing.transcode",
]
_context_lock = threading.Lock()
_context: Any = None

ChildWork = Callable[[list[str]], dict[str, Any]]


def _fork_server() -> Any:
    global _context
    with _context_lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(_PRELOAD)
            _context = context
        return _context


def run_child(
    work: ChildWork,
    *args: str,
    timeout_seconds: float,
    memory_bytes: int = DEFAULT_MEMORY_BYTES,
    failure_message: str = "The file could not be processed.",
) -> dict[str, Any]:
    """`work(args)` in a fresh child process under limits; returns its result."""
    context = _fork_server()
    receiver, sender = context.Pipe(duplex=False)
    cpu_seconds = max(1, int(timeout_seconds))
    child = context.Process(
        target=_child_entry,
        args=(work, list(args), sender, cpu_seconds, memory_bytes),
        daemon=True,
    )
    child.start()
    sender.close()
    try:
        if not receiver.poll(timeout_seconds):
            raise MediaProcessingFailed(failure_message, reason="timeout")
        succeeded, payload = receiver.recv()
    except EOFError as exc:  # the child died without answering (a crash, a limit)
        child.join(5)
        reason = f"the decoder process ended with status {child.exitcode}"
        raise MediaProcessingFailed(failure_message, reason=reason) from exc
    finally:
        receiver.close()
        child.join(0.5)
        if child.is_alive():
            child.kill()
            child.join()
    if not succeeded:
        raise MediaProcessingFailed(failure_message, reason=client_reason(str(payload), 300))
    result: dict[str, Any] = payload
    return result


def _child_entry(
    work: ChildWork, args: list[str], sender: Connection, cpu_seconds: int, memory_bytes: int
) -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        result = work(args)
    except BaseException as exc:  # report every failure as text: nothing else crosses
        sender.send((False, f"{type(exc).__name__}: {exc}"))
    else:
        sender.send((True, result))
    finally:
        sender.close()
