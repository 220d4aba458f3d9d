"""A client for the ClamAV daemon: `zINSTREAM` scans over its Unix or TCP socket.

The bytes are streamed in length-prefixed chunks from wherever they are stored, so a
scan never holds a file in memory and works the same for local disk and S3. Every answer
that is not a plain "OK" or a named threat fails closed: the daemon gone, a time-out, an
error, or a scan cut short by a size limit never counts as clean.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterable
from urllib.parse import urlsplit

from medialib.config import Settings
from medialib.scanning.base import Scanner, ScannerUnavailable, ScanVerdict

_CHUNK_LIMIT = 1024 * 1024  # clamd reads chunks of at most StreamMaxLength; keep them small
_LIMITS_EXCEEDED = "Heuristics.Limits.Exceeded"


class ClamdScanner:
    def __init__(self, url: str, *, timeout: float = 120.0) -> None:
        parts = urlsplit(url)
        if parts.scheme == "unix" and parts.path:
            self._address: str | tuple[str, int] = parts.path
            self._family = socket.AF_UNIX
        elif parts.scheme == "tcp" and parts.hostname and parts.port:
            self._address = (parts.hostname, parts.port)
            self._family = socket.AF_INET6 if ":" in parts.hostname else socket.AF_INET
        else:
            raise ValueError(f"MEDIALIB_CLAMD_URL must be unix:///path or tcp://host:port: {url!r}")
        self.url = url
        self._timeout = timeout

    def ping(self) -> None:
        if self._ask(b"zPING\0") != "PONG":
            raise ScannerUnavailable("clamd did not answer PING")

    def version(self) -> str:
        return self._ask(b"zVERSION\0")

    def scan(self, chunks: Iterable[bytes]) -> ScanVerdict:
        try:
            with self._connect() as conn:
                conn.sendall(b"zINSTREAM\0")
                try:
                    _stream(conn, chunks)
                except OSError:
                    # clamd answers and hangs up when a stream passes its StreamMaxLength;
                    # its answer may still be there to read.
                    reply = _read_reply(conn)
                    if "size limit exceeded" in reply:
                        return ScanVerdict(incomplete=True)
                    raise
                reply = _read_reply(conn)
        except OSError as exc:
            raise ScannerUnavailable(f"clamd: {exc}") from exc
        return _verdict(reply)

    def _ask(self, command: bytes) -> str:
        try:
            with self._connect() as conn:
                conn.sendall(command)
                return _read_reply(conn)
        except OSError as exc:
            raise ScannerUnavailable(f"clamd: {exc}") from exc

    def _connect(self) -> socket.socket:
        conn = socket.socket(self._family, socket.SOCK_STREAM)
        conn.settimeout(self._timeout)
        try:
            conn.connect(self._address)
        except OSError:
            conn.close()
            raise
        return conn


def scanner_for(settings: Settings) -> Scanner | None:
    """The configured scanner, or None when scanning is off (MEDIALIB_CLAMD_URL unset)."""
    if not settings.clamd_url:
        return None
    return ClamdScanner(settings.clamd_url, timeout=settings.scan_timeout_seconds)


def _stream(conn: socket.socket, chunks: Iterable[bytes]) -> None:
    for chunk in chunks:
        for start in range(0, len(chunk), _CHUNK_LIMIT):
            piece = chunk[start : start + _CHUNK_LIMIT]
            conn.sendall(struct.pack("!I", len(piece)) + piece)
    conn.sendall(struct.pack("!I", 0))


def _read_reply(conn: socket.socket) -> str:
    reply = b""
    while not reply.endswith(b"\0"):
        data = conn.recv(4096)
        if not data:
            break
        reply += data
        if len(reply) > 64 * 1024:
            raise ScannerUnavailable("clamd's answer is too long")
    return reply.rstrip(b"\0").decode("utf-8", "replace").strip()


def _verdict(reply: str) -> ScanVerdict:
    """`stream: OK`, `stream: <threat> FOUND`, or `<message> ERROR`."""
    body = reply.partition(": ")[2] if reply.startswith("stream: ") else reply
    if body == "OK":
        return ScanVerdict()
    if body.endswith(" FOUND"):
        threat = body.removesuffix(" FOUND").strip()
        if threat.startswith(_LIMITS_EXCEEDED):
            return ScanVerdict(incomplete=True)
        return ScanVerdict(threat=threat)
    if "size limit exceeded" in body:
        return ScanVerdict(incomplete=True)
    raise ScannerUnavailable(f"clamd answered: {reply[:200]}")
