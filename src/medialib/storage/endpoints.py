"""Serving objects of the local store at their public URLs.

URLs carry an unguessable key segment and never change, so responses are cacheable for
good. Only re-encodable raster/video/audio types are shown inline; everything else is an
attachment, and nothing is ever sniffed into HTML by the browser.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from medialib.deps import MediaServiceDep, StateDep
from medialib.errors import NotFound
from medialib.processing.filenames import content_disposition
from medialib.processing.sniff import normalise_mime
from medialib.storage.local import FILES_PATH, InvalidKey, LocalObjectStore

router = APIRouter(tags=["files"])

INLINE_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
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
def serve_file(key: str, request: Request, state: StateDep, service: MediaServiceDep) -> Response:
    store = state.store
    if not isinstance(store, LocalObjectStore) or not service.may_serve(key):
        raise NotFound()
    try:
        path = store.path_for(key)
    except InvalidKey as exc:
        raise NotFound() from exc
    info = store.stat(key)
    if info is None:
        raise NotFound()
    declared = normalise_mime(info.content_type)
    inline = declared in INLINE_TYPES
    name = request.query_params.get("filename") or "file"
    headers = {
        **SAFETY_HEADERS,
        "Content-Disposition": content_disposition(name, inline=inline),
    }
    media_type = declared if inline else "application/octet-stream"
    return FileResponse(path, media_type=media_type, headers=headers)
