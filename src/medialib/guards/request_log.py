"""One access record per request when it ends: method, route path, status and duration,
under the request's id (guards/edge.py gives every request one)."""

from __future__ import annotations

import logging

log = logging.getLogger("medialib.access")
_QUIET = ("/healthz", "/readyz", "/metrics")  # probed every few seconds: not worth a line


def log_access(method: str, path: str, status: int, elapsed_ms: float) -> None:
    if path in _QUIET:
        return
    path = _loggable(path)
    log.info(
        "%s %s %d %.1f ms",
        method,
        path,
        status,
        elapsed_ms,
        extra={
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": round(elapsed_ms, 1),
        },
    )


def _loggable(path: str) -> str:
    """A file URL's path holds its capability token: logs keep workspace and media only."""
    if path.startswith("/files/"):
        return "/".join(path.split("/")[:4]) + "/…"
    return path[:300]
