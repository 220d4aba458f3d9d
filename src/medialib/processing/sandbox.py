"""Run a decoder in a bounded child process: CPU, address-space and wall-clock limits,
no stdin, argv as a list. A hostile file can crash or hang only the child, which is
killed on time-out (it is a session leader, so nothing it started outlives it).
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
from typing import Any

from medialib.errors import MediaProcessingFailed

DEFAULT_MEMORY_BYTES = 1536 * 1024 * 1024


def run_child(
    module: str,
    *args: str,
    timeout_seconds: float,
    memory_bytes: int = DEFAULT_MEMORY_BYTES,
    failure_message: str = "The file could not be processed.",
) -> dict[str, Any]:
    """`python -m module args…` under limits; its stdout is one JSON object."""
    cpu_seconds = max(1, int(timeout_seconds))
    process = subprocess.Popen(
        [sys.executable, "-m", module, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=lambda: _limit(cpu_seconds, memory_bytes),
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout_seconds)
    except subprocess.TimeoutExpired as exc:
        _kill_group(process)
        raise MediaProcessingFailed(failure_message, reason="timeout") from exc
    except BaseException:
        _kill_group(process)
        raise
    if process.returncode != 0:
        lines = stderr.decode(errors="replace").strip().splitlines()
        reason = lines[-1] if lines else f"exit status {process.returncode}"
        raise MediaProcessingFailed(failure_message, reason=reason[:300])
    result: dict[str, Any] = json.loads(stdout)
    return result


def _limit(cpu_seconds: int, memory_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def child_main(work: Any) -> None:
    """Entry point for a child module: run `work(argv)` and print its JSON result."""
    print(json.dumps(work(sys.argv[1:])))
