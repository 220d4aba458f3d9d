"""Serving stored objects at their public URLs (`/files/<key>`), under the media's rules
(`serving.py`): a store's own files directly, other stores' objects (S3) streamed
through, with Range requests either way.

URLs carry an unguessable key segment and never change, so responses are cacheable for
good. Only re-encodable raster/video/audio types are shown inline; everything else is an
attachment, and nothing is ever sniffed into HTML by the browser.
"""

from __future__ import annotations

import hashlib
from email.utils import formatdate, parsedate_to_datetime

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse

from medialib.deps import StateDep, reading
from medialib.errors import NotFound, RangeNotSatisfiable
from medialib.media.serving import servable
from medialib.processing.filenames import content_disposition
from medialib.processing.sniff import normalise_mime
from medialib.storage.base import FILES_PATH, ByteRange, ObjectBytes

router = APIRouter(tags=["files"])

INLINE_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/apng",
        "image/gif",
        "image/webp",
        "image/avif",
        "video/mp4",
        "video/webm",
        "audio/mpeg",
        "audio/mp4",
        "audio/ogg",
        "audio/wav",
        "audio/flac",
    }
)
SAFETY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "public, max-age=31536000, immutable",
    "Cross-Origin-Resource-Policy": "cross-origin",
}


@router.api_route(FILES_PATH + "/{key:path}", methods=["GET", "HEAD"], include_in_schema=False)
def serve_file(key: str, request: Request, state: StateDep) -> Response:
    store = state.store
    with reading(state) as session:
        allowed = servable(session, key)
    if allowed is None:
        raise NotFound()
    info = store.stat(key)
    if info is None:
        raise NotFound()
    # Keys are write-once, so a file's tag never changes: its checksum when the store has
    # it, else its key and size.
    tag = f'"{info.sha256 or hashlib.sha256(f"{key}:{info.size}".encode()).hexdigest()}"'
    validators = {"ETag": tag}
    if info.modified is not None:
        validators["Last-Modified"] = formatdate(int(info.modified), usegmt=True)
    if _not_modified(request, tag, info.modified):
        return Response(status_code=304, headers={**SAFETY_HEADERS, **validators})
    declared = normalise_mime(allowed.content_type or info.content_type)
    inline = declared in INLINE_TYPES
    name = request.query_params.get("filename") or "file"
    headers = {
        **SAFETY_HEADERS,
        "Content-Disposition": content_disposition(name, inline=inline),
        **validators,
    }
    media_type = declared if inline else "application/octet-stream"
    wanted = _range(request.headers.get("range"), info.size)
    if wanted == "unsatisfiable":  # the documented error, as JSON, with where the file ends
        refusal = RangeNotSatisfiable(size=info.size)
        return JSONResponse(
            {"error": refusal.to_dict()},
            status_code=refusal.status_code,
            headers={**SAFETY_HEADERS, "Content-Range": f"bytes */{info.size}"},
        )
    path = store.file_path(key)
    if path is not None and (wanted is not None or "range" not in request.headers):
        return FileResponse(path, media_type=media_type, headers=headers)
    # A remote store's object, or a Range header to ignore (malformed or several ranges):
    # streamed through here, whole or in one range.
    return _stream(store, key, info.size, request, media_type, headers)


def _tags(header: str | None) -> set[str]:
    """The entity tags an If-None-Match names (weak ones compare as strong: GET only)."""
    if not header:
        return set()
    return {part.strip().removeprefix("W/") for part in header.split(",")}


def _stream(
    store: ObjectBytes,
    key: str,
    size: int,
    request: Request,
    media_type: str,
    headers: dict[str, str],
) -> Response:
    """A remote store's object through this route, with single-range requests."""
    headers = {**headers, "Accept-Ranges": "bytes"}
    wanted = _range(request.headers.get("range"), size)
    status, byte_range, length = 200, None, size
    if isinstance(wanted, tuple):
        status, byte_range = 206, wanted
        length = wanted[1] - wanted[0] + 1
        headers["Content-Range"] = f"bytes {wanted[0]}-{wanted[1]}/{size}"
    headers["Content-Length"] = str(length)
    if request.method == "HEAD" or length == 0:
        return Response(status_code=status, media_type=media_type, headers=headers)
    return StreamingResponse(
        store.iter_range(key, byte_range),
        status_code=status,
        media_type=media_type,
        headers=headers,
    )


def _not_modified(request: Request, tag: str, modified: float | None) -> bool:
    """RFC 9110 §13.2.2: If-None-Match decides when sent; If-Modified-Since otherwise."""
    if "if-none-match" in request.headers:
        return tag in _tags(request.headers.get("if-none-match"))
    since = request.headers.get("if-modified-since")
    if since is None or modified is None:
        return False
    try:
        when = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False  # an unreadable date is ignored, as the RFC says
    if when.tzinfo is None:
        return False
    return int(modified) <= when.timestamp()


def _range(header: str | None, size: int) -> ByteRange | str | None:
    """(first, last) of a single `bytes=` range; None for the whole object."""
    if not header or not header.startswith("bytes=") or "," in header or size == 0:
        return None
    first, _, last = header[6:].strip().partition("-")
    try:
        if not first:  # the last N bytes
            count = int(last)
            return (max(0, size - count), size - 1) if count > 0 else "unsatisfiable"
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    except ValueError:
        return None
    return (start, end) if start <= end and start < size else "unsatisfiable"
