"""Undoing a response's `Content-Encoding` with every decoded byte counted as it is
produced. httpx inflates a whole received chunk at once, so 3.5 KB of `gzip, gzip` can
become gigabytes before any cap is checked; here each layer inflates at most
`PIECE_BYTES` at a time and the caller counts the output piece by piece."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator

from medialib.errors import ImportFailed

PIECE_BYTES = 64 * 1024
MAX_LAYERS = 3  # more stacked encodings than this is not a real server
_GZIP = ("gzip", "x-gzip")
_DEFLATE = ("deflate",)


def encodings_of(header: str | None) -> list[str]:
    """The encodings applied, first to last; refuses what we did not ask for."""
    applied = [part.strip().lower() for part in (header or "").split(",") if part.strip()]
    applied = [encoding for encoding in applied if encoding != "identity"]
    if len(applied) > MAX_LAYERS:
        raise ImportFailed("The server stacked too many encodings.", reason="encoding")
    unknown = [e for e in applied if e not in _GZIP + _DEFLATE]
    if unknown:
        raise ImportFailed(
            f"The server sent an encoding that was not asked for: {unknown[0]}.",
            reason="encoding",
        )
    return applied


def decoded(raw: Iterable[bytes], encodings: list[str]) -> Iterator[bytes]:
    """The body with each encoding undone, last applied first, in bounded pieces."""
    stream: Iterable[bytes] = raw
    for encoding in reversed(encodings):
        stream = _inflate(stream, gzip=encoding in _GZIP)
    yield from stream


def _inflate(chunks: Iterable[bytes], *, gzip: bool) -> Iterator[bytes]:
    # wbits 16+MAX: a gzip wrapper; 32+MAX: zlib or gzip (deflate as servers send it).
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS if gzip else 32 + zlib.MAX_WBITS)
    raw_deflate = started = False
    try:
        for chunk in chunks:
            data = chunk
            while data:
                try:
                    piece = inflater.decompress(data, PIECE_BYTES)
                    started = True
                except zlib.error:
                    if gzip or raw_deflate or started:
                        raise
                    # Some servers send raw deflate without the zlib wrapper.
                    inflater, raw_deflate = zlib.decompressobj(-zlib.MAX_WBITS), True
                    continue
                if piece:
                    yield piece
                data = inflater.unconsumed_tail
                if inflater.eof:
                    break
        while not inflater.eof and (rest := inflater.flush(PIECE_BYTES)):
            yield rest
    except zlib.error as exc:
        raise ImportFailed("The server's compressed body is broken.", reason="encoding") from exc
