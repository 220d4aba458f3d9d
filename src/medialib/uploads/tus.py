"""tus 1.0 resumable uploads at `/v1/tus/`: core, creation, creation-with-upload,
termination, checksum and expiration.

Every response carries `Tus-Resumable`, and every response about an upload its media id
in `Medialib-Media-Id`. Errors are the usual JSON error model. Bodies stream to the
store's partial in batches, as for any upload; no database transaction stays open while
bytes flow. When the last byte is in, the media is confirmed like any other upload: the
final PATCH answers 204 when it was accepted, or the confirm's error.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
import hashlib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from medialib import metrics
from medialib.db import session_scope, utcnow
from medialib.deps import (
    AppState,
    KeyDep,
    SessionDep,
    StateDep,
    authenticated,
    workspace_for_key,
)
from medialib.errors import (
    ChecksumMismatch,
    MedialibError,
    PayloadTooLarge,
    TusVersionUnsupported,
    UnsupportedMediaType,
    UploadBusy,
    UploadExpired,
    UploadOffsetMismatch,
)
from medialib.http_errors import error_response
from medialib.media.intake import ConfirmOutcome
from medialib.route_marks import IDEMPOTENT, STREAMS_BODY, both
from medialib.storage.base import OffsetMismatch, PartialAppend, PartialBusy, PartialMissing
from medialib.uploads.flows import complete_resumable
from medialib.uploads.resumable import TUS_PATH, ResumableUploads, UploadView
from medialib.uploads.streaming import BodyTooLarge, on_io_thread, pump
from medialib.uploads.tus_headers import (
    CHECKSUM_ALGORITHMS,
    OFFSET_CONTENT_TYPE,
    TUS_VERSION,
    header_int,
    parse_checksum,
    parse_metadata,
    refuse_unsupported_extensions,
    request_from_metadata,
    require_version,
)
from medialib.workspaces.models import Workspace

TUS_EXTENSIONS = "creation,creation-with-upload,termination,checksum,expiration"
KEEP_ALIVE_EVERY = dt.timedelta(minutes=1)


class _TusRoute(APIRoute):
    """Adds `Tus-Resumable` to every answer, errors included."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def tus_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except MedialibError as exc:
                response = error_response(exc)
                if isinstance(exc, TusVersionUnsupported):
                    response.headers["Tus-Version"] = TUS_VERSION
            response.headers["Tus-Resumable"] = TUS_VERSION
            return response

        return tus_handler


router = APIRouter(prefix=TUS_PATH, tags=["uploads"], route_class=_TusRoute)


@dataclass(frozen=True, slots=True)
class _Received:
    view: UploadView  # as it is after this request
    offset: int
    outcome: ConfirmOutcome | None = None  # set when this request finished the upload


@router.options("", status_code=204, include_in_schema=False)
@router.options("/", status_code=204, include_in_schema=False)
@router.options("/{upload_id}", status_code=204, include_in_schema=False)
async def discover(state: StateDep) -> Response:
    """What this tus server speaks; needs no key."""
    return Response(
        status_code=204,
        headers={
            "Tus-Version": TUS_VERSION,
            "Tus-Extension": TUS_EXTENSIONS,
            "Tus-Max-Size": str(max(state.settings.kind_caps.values())),
            "Tus-Checksum-Algorithm": ",".join(CHECKSUM_ALGORITHMS),
        },
    )


@router.post("", status_code=201, openapi_extra=both(IDEMPOTENT, STREAMS_BODY))
@router.post(
    "/", status_code=201, include_in_schema=False, openapi_extra=both(IDEMPOTENT, STREAMS_BODY)
)
async def create_upload(request: Request, state: StateDep, key: KeyDep) -> Response:
    """Start a resumable upload of `Upload-Length` bytes. `Upload-Metadata` carries
    `filename` and optionally `kind`, `tags` (comma-separated), `description`,
    `content_type`. A body sent with `Content-Type: application/offset+octet-stream` is the
    upload's first bytes. Answers 201 with `Location` and `Medialib-Media-Id`."""
    require_version(request)
    workspace = await authenticated(state, key)
    refuse_unsupported_extensions(request)
    length = header_int(request, "upload-length")
    raw_metadata = request.headers.get("upload-metadata")
    upload_request = request_from_metadata(parse_metadata(raw_metadata), length=length)
    checksum = parse_checksum(request.headers.get("upload-checksum"))
    view = await run_in_threadpool(_create, state, workspace, upload_request, raw_metadata)
    headers = {"Location": view.path, **_upload_headers(view)}
    if request.headers.get("content-type") != OFFSET_CONTENT_TYPE:
        return Response(status_code=201, headers=headers)
    received = await _receive(state, workspace, view, request, offset=0, checksum=checksum)
    return _answer(received, headers, status_code=201)


@router.head("/{upload_id}")
def upload_status(upload_id: str, request: Request, state: StateDep, key: KeyDep) -> Response:
    """Where the upload got to: `Upload-Offset` and `Upload-Length`."""
    require_version(request)
    workspace = workspace_for_key(state, key)
    view = _find(state, workspace, upload_id)
    offset = view.length if view.completed else _stored_offset(state, view)
    headers = {
        **_upload_headers(view),
        "Upload-Offset": str(offset),
        "Upload-Length": str(view.length),
        "Cache-Control": "no-store",
    }
    if view.upload_metadata:
        headers["Upload-Metadata"] = view.upload_metadata
    return Response(status_code=200, headers=headers)


@router.patch("/{upload_id}", status_code=204, openapi_extra=STREAMS_BODY)
async def append_bytes(upload_id: str, request: Request, state: StateDep, key: KeyDep) -> Response:
    """Send bytes from `Upload-Offset` on (`Content-Type: application/offset+octet-stream`).
    A wrong offset answers 409 and changes nothing; with `Upload-Checksum` (sha1, sha256,
    md5) bytes that do not match answer 460 and are not kept."""
    require_version(request)
    workspace = await authenticated(state, key)
    refuse_unsupported_extensions(request)
    if request.headers.get("content-type") != OFFSET_CONTENT_TYPE:
        raise UnsupportedMediaType(f"Send the bytes as {OFFSET_CONTENT_TYPE}.")
    offset = header_int(request, "upload-offset")
    checksum = parse_checksum(request.headers.get("upload-checksum"))
    view = await run_in_threadpool(_find, state, workspace, upload_id)
    received = await _receive(state, workspace, view, request, offset=offset, checksum=checksum)
    return _answer(received, {}, status_code=204)


@router.delete("/{upload_id}", status_code=204)
def terminate_upload(upload_id: str, request: Request, state: StateDep, key: KeyDep) -> Response:
    """Abandon an unfinished upload: its bytes and its media are removed."""
    require_version(request)
    workspace = workspace_for_key(state, key)
    _find(state, workspace, upload_id)  # another workspace's upload is not found, not busy
    partials = state.store.partials
    try:
        append = partials.append(upload_id, offset=partials.offset(upload_id))
    except PartialBusy as exc:
        raise UploadBusy(retry_after=exc.retry_after) from exc
    except OffsetMismatch as exc:
        raise UploadBusy() from exc
    except PartialMissing:
        append = None
    try:
        with session_scope(state.session_factory) as session:
            view = _uploads(state, session).terminate(workspace, upload_id)
        partials.discard(upload_id)
    finally:
        if append is not None:
            append.close()
    return Response(status_code=204, headers={"Medialib-Media-Id": view.media_id})


async def _receive(
    state: AppState,
    workspace: Workspace,
    view: UploadView,
    request: Request,
    *,
    offset: int,
    checksum: tuple[str, bytes] | None,
) -> _Received:
    """Append the request body at `offset`; confirm the media if that was the last byte."""
    if view.completed:
        if offset != view.length:
            raise UploadOffsetMismatch(offset=view.length)
        # A repeat of the last PATCH (its answer was lost): the same answer again.
        return await _completed(state, workspace, view)
    append = await on_io_thread(lambda: _open_append(state, view, offset))
    if append is None:  # every byte was already in; only the confirm may be missing
        return await _completed(state, workspace, view)
    finished = False
    try:
        try:
            await _stream_into(append, request, max_bytes=view.length - offset, checksum=checksum)
            new_offset = await on_io_thread(append.commit)
        except PartialBusy as lost:  # its lease was taken over (a holder thought dead)
            raise UploadBusy(retry_after=lost.retry_after) from lost
        except OffsetMismatch as moved:  # another holder committed first
            raise UploadOffsetMismatch(offset=moved.expected) from moved
        metrics.UPLOAD_BYTES.labels("tus").inc(new_offset - offset)
        if new_offset == view.length:
            await on_io_thread(lambda: _finish(state, append, view))
            finished = True
    finally:
        await on_io_thread(append.close)
    if finished:
        return await _completed(state, workspace, view)
    if _due_for_keep_alive(state, view):
        view = await run_in_threadpool(_keep_alive, state, view)
    return _Received(view, new_offset)


async def _completed(state: AppState, workspace: Workspace, view: UploadView) -> _Received:
    outcome = await run_in_threadpool(complete_resumable, state.runtime, workspace, view)
    return _Received(dataclasses.replace(view, completed=True), view.length, outcome)


async def _stream_into(
    append: PartialAppend, request: Request, *, max_bytes: int, checksum: tuple[str, bytes] | None
) -> None:
    hasher = hashlib.new(checksum[0]) if checksum else None

    def sink(chunk: bytes) -> None:
        if hasher is not None:
            hasher.update(chunk)
        append.write(chunk)

    try:
        await pump(request.stream(), sink, max_bytes=max_bytes)
    except BodyTooLarge as exc:
        raise PayloadTooLarge(
            "The body goes past Upload-Length; nothing of it was kept.",
            max_bytes=max_bytes,
            size=exc.seen,
        ) from exc
    except ClientDisconnect:
        # tus keeps what arrived before a break, unless it cannot be checked.
        if checksum is None:
            await on_io_thread(append.commit)
        raise
    if hasher is not None and checksum is not None and hasher.digest() != checksum[1]:
        raise ChecksumMismatch()


def _open_append(state: AppState, view: UploadView, offset: int) -> PartialAppend | None:
    try:
        return state.store.partials.append(view.id, offset=offset)
    except PartialBusy as exc:
        raise UploadBusy(retry_after=exc.retry_after) from exc
    except OffsetMismatch as exc:
        raise UploadOffsetMismatch(offset=exc.expected) from exc
    except PartialMissing:
        # Finished by a request that stopped before it could confirm: the object is whole.
        if _object_complete(state, view):
            if offset != view.length:
                raise UploadOffsetMismatch(offset=view.length) from None
            return None
        raise UploadExpired() from None


def _finish(state: AppState, append: PartialAppend, view: UploadView) -> None:
    try:
        append.finish(view.storage_key, content_type=view.content_type)
    except FileExistsError:
        # An earlier request got as far as storing the object, then stopped.
        if not _object_complete(state, view):
            raise


def _object_complete(state: AppState, view: UploadView) -> bool:
    info = state.store.stat(view.storage_key)
    return info is not None and info.size == view.length


def _stored_offset(state: AppState, view: UploadView) -> int:
    try:
        return state.store.partials.offset(view.id)
    except PartialMissing:
        if _object_complete(state, view):
            return view.length
        raise UploadExpired() from None


def _answer(received: _Received, headers: dict[str, str], *, status_code: int) -> Response:
    headers = {**headers, **_upload_headers(received.view), "Upload-Offset": str(received.offset)}
    outcome = received.outcome
    if outcome is not None:
        headers["Medialib-Media-Status"] = str(outcome.media.status)
        if outcome.error is not None:
            response = error_response(outcome.error)
            response.headers.update(headers)
            return response
    return Response(status_code=status_code, headers=headers)


def _upload_headers(view: UploadView) -> dict[str, str]:
    headers = {"Medialib-Media-Id": view.media_id}
    if not view.completed:
        headers["Upload-Expires"] = email.utils.format_datetime(view.expires_at, usegmt=True)
    return headers


def _uploads(state: AppState, session: SessionDep) -> ResumableUploads:
    return ResumableUploads(session, store=state.store, settings=state.settings)


def _create(
    state: AppState, workspace: Workspace, request: Any, raw_metadata: str | None
) -> UploadView:
    with session_scope(state.session_factory) as session:
        return _uploads(state, session).create(workspace, request, raw_metadata=raw_metadata)


def _find(state: AppState, workspace: Workspace, upload_id: str) -> UploadView:
    with session_scope(state.session_factory) as session:
        return _uploads(state, session).find(workspace, upload_id)


def _due_for_keep_alive(state: AppState, view: UploadView) -> bool:
    """Push the expiry back at most once a minute: not a database write per piece."""
    ttl = dt.timedelta(seconds=state.settings.resumable_ttl_seconds)
    return view.expires_at - utcnow() < ttl - KEEP_ALIVE_EVERY


def _keep_alive(state: AppState, view: UploadView) -> UploadView:
    with session_scope(state.session_factory) as session:
        expires_at = _uploads(state, session).keep_alive(view)
    return dataclasses.replace(view, expires_at=expires_at)
