"""Upload routes: asking for an upload URL, the app-signed PUT, confirm, direct uploads
and URL imports. Every way in ends in the confirm flow (`flows.py`).

The byte-moving routes are async and stream: a body is never held in memory, and no
database transaction stays open while bytes flow.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from medialib import metrics
from medialib.config import DIRECT_UPLOAD_MAX_BYTES
from medialib.db import utcnow
from medialib.deps import (
    CurrentWorkspace,
    KeyDep,
    RuntimeDep,
    SessionDep,
    StateDep,
    authenticated,
    workspace_is_live,
)
from medialib.errors import Forbidden, InvalidState, PayloadTooLarge, ValidationFailed
from medialib.ids import new_id
from medialib.media.intake import ConfirmOutcome, MediaIntake, storage_key_for
from medialib.media.presenter import present
from medialib.media.schemas import MediaOut, UploadRequest, UploadResponse
from medialib.route_marks import IDEMPOTENT, STREAMS_BODY, both
from medialib.runtime import Runtime
from medialib.storage.base import UPLOAD_PATH, ObjectTooLarge, ObjectWriter
from medialib.uploads import flows
from medialib.uploads.importer import import_url, probe_url
from medialib.uploads.multipart import FilePart, FormReader
from medialib.uploads.resumable import ResumableUploads
from medialib.uploads.schemas import (
    DirectUploadFields,
    ImportRequest,
    ProbeRequest,
    ProbeResult,
    StoredUpload,
)
from medialib.uploads.streaming import BodyTooLarge, on_io_thread, pump
from medialib.uploads.tus_headers import OFFSET_CONTENT_TYPE, TUS_VERSION
from medialib.workspaces.models import Workspace

router = APIRouter(tags=["uploads"])

_FORM_OVERHEAD_BYTES = 256 * 1024


@router.post(
    "/v1/media/upload",
    status_code=201,
    response_model=UploadResponse,
    tags=["media"],
    openapi_extra=IDEMPOTENT,
)
def request_upload(
    body: UploadRequest, workspace: CurrentWorkspace, session: SessionDep, runtime: RuntimeDep
) -> UploadResponse:
    """Reserve a media id and get a URL to send its bytes to.

    `mode=single` (default): send the bytes with exactly the returned `method` and
    `headers`, then call confirm. `mode=resumable` (needs `size`): the URL is a tus upload;
    send PATCHes with `Upload-Offset` and your key, ask HEAD where it got to after a break;
    the last byte confirms it. A declared `size` over the kind's cap answers 413 at once.
    """
    if body.mode == "resumable":
        uploads = ResumableUploads(session, store=runtime.store, settings=runtime.settings)
        view = uploads.create(workspace, body)
        session.commit()
        return UploadResponse(
            id=view.media_id,
            upload_url=f"{runtime.settings.public_base_url}{view.path}",
            method="PATCH",
            headers={"Tus-Resumable": TUS_VERSION, "Content-Type": OFFSET_CONTENT_TYPE},
            expires_at=view.expires_at,
            mode="resumable",
        )
    intake = MediaIntake(session, store=runtime.store, settings=runtime.settings)
    upload = intake.request_upload(workspace, body)
    session.commit()
    return UploadResponse(
        id=upload.media.id,
        upload_url=upload.target.url,
        method=upload.target.method,
        headers=upload.target.headers,
        expires_at=upload.media.upload_expires_at,
    )


@router.post("/v1/media/{media_id}/confirm", response_model=MediaOut, tags=["media"])
def confirm_upload(media_id: str, workspace: CurrentWorkspace, runtime: RuntimeDep) -> MediaOut:
    """Check the uploaded bytes and start processing.

    Verifies the object, records its size, re-checks the cap, sniffs the type from the
    bytes, and has ClamAV scan them when it is configured (an infected file answers 422
    `media_rejected_security` with the threat, and its bytes are removed; a scanner that
    cannot answer, 503). Images come back `ready`; other kinds `processing`. Idempotent: repeated or
    parallel confirms make one transition and get the same answer.
    """
    return _answer(runtime, flows.confirm_upload(runtime, workspace, media_id))


@router.put(UPLOAD_PATH, response_model=StoredUpload, openapi_extra=STREAMS_BODY)
async def put_signed_upload(request: Request, state: StateDep) -> StoredUpload:
    """Receive the bytes for a signed upload URL (local store).

    The signature covers method, key, workspace, expiry, byte cap and Content-Type: an
    altered or expired URL, or another Content-Type (but `application/octet-stream`),
    answers 403. A body over the cap is
    cut off with 413 and nothing of it is kept. Uploads are write-once.
    """
    store = state.store
    grant = store.verify_upload("PUT", request.query_params, now=utcnow())
    # The type the URL was issued for, or plain binary (what a client generated from the
    # API document sends): the stored object keeps the signed type either way, and what
    # the bytes are is sniffed from them at confirm.
    sent = request.headers.get("content-type", "")
    if sent not in (grant.content_type, "application/octet-stream"):
        raise Forbidden(
            "The Content-Type must be the one the upload URL was issued for "
            "(or application/octet-stream).",
            reason="content_type",
            expected=grant.content_type,
        )
    _refuse_declared_oversize(request, grant.max_bytes)

    def open_writer() -> ObjectWriter:
        if not workspace_is_live(state, grant.workspace_id):  # deleted since it was signed
            raise Forbidden("The upload URL is not valid.", reason="workspace_deleted")
        return store.open_writer(
            grant.key, content_type=grant.content_type, max_bytes=grant.max_bytes, exclusive=True
        )

    writer = await on_io_thread(open_writer)
    info = None
    try:
        await pump(request.stream(), writer.write, max_bytes=grant.max_bytes)
        info = await on_io_thread(writer.commit)
        metrics.UPLOAD_BYTES.labels("signed_put").inc(info.size)
    except (BodyTooLarge, ObjectTooLarge) as exc:
        raise PayloadTooLarge(max_bytes=grant.max_bytes, size=_seen(exc)) from exc
    except FileExistsError as exc:
        raise InvalidState("These bytes were already uploaded; the URL is single-use.") from exc
    finally:
        if info is None:  # not committed: nothing of it is kept
            await on_io_thread(writer.abort)
    return StoredUpload(size=info.size, checksum_sha256=info.sha256 or "")


@router.post(
    "/v1/media",
    status_code=201,
    response_model=MediaOut,
    tags=["media"],
    openapi_extra=both(IDEMPOTENT, STREAMS_BODY),
)
async def direct_upload(request: Request, state: StateDep, key: KeyDep) -> MediaOut:
    """Upload a file in one multipart request (`file`, `kind?`, `description?`, `tags?`).

    For files up to 100 MB; the body is streamed to storage and then confirmed like any
    other upload, so the answer is the media object (images `ready`, others `processing`).
    """
    workspace = await authenticated(state, key)
    _refuse_declared_oversize(request, DIRECT_UPLOAD_MAX_BYTES + _FORM_OVERHEAD_BYTES)
    media_id = new_id("med")
    storage_key = storage_key_for(workspace.id, media_id)
    writers: list[ObjectWriter] = []

    def open_file(part: FilePart) -> object:
        writer = state.store.open_writer(
            storage_key,
            content_type=part.content_type,
            max_bytes=DIRECT_UPLOAD_MAX_BYTES,
            exclusive=True,
        )
        writers.append(writer)
        return writer.write

    reader = FormReader.from_content_type(
        request.headers.get("content-type", ""),
        file_field="file",
        open_file=open_file,  # type: ignore[arg-type]
    )
    try:
        await pump(
            request.stream(), reader.write, max_bytes=DIRECT_UPLOAD_MAX_BYTES + _FORM_OVERHEAD_BYTES
        )
        await on_io_thread(reader.finish)
        stored = await on_io_thread(writers[0].commit)
        metrics.UPLOAD_BYTES.labels("direct").inc(stored.size)
    except (BodyTooLarge, ObjectTooLarge) as exc:
        raise PayloadTooLarge(max_bytes=DIRECT_UPLOAD_MAX_BYTES, size=_seen(exc)) from exc
    finally:
        for writer in writers:
            await on_io_thread(writer.abort)  # a no-op for the committed one
    return await run_in_threadpool(
        _create_and_confirm,
        state.runtime,
        workspace,
        reader,
        media_id=media_id,
        storage_key=storage_key,
    )


@router.post("/v1/media/import/probe", response_model=ProbeResult, tags=["media"])
async def probe_import(
    workspace: CurrentWorkspace, body: ProbeRequest, state: StateDep
) -> ProbeResult:
    """What a URL holds (type from its first bytes, server's type, size, name), keeping
    nothing. The URL must be public `https`; private addresses answer `url_not_allowed`.
    Runs in the import pool: when it is full, 503 with `Retry-After`."""
    by = time.monotonic() + state.settings.import_deadline_seconds  # the wait for a turn counts
    return await state.imports.run(probe_url, state.settings, body, by, owner=workspace.id, by=by)


@router.post(
    "/v1/media/import",
    status_code=201,
    response_model=MediaOut,
    tags=["media"],
    openapi_extra=IDEMPOTENT,
)
async def import_media(
    workspace: CurrentWorkspace, body: ImportRequest, state: StateDep
) -> MediaOut:
    """Import a file from a public `https` URL (up to 100 MB); it goes through the same
    checks as an upload and comes back as the media object. Imports run in a pool of
    their own, each within a deadline from the request (a wait for a turn counts), each
    workspace at most its share of them; when the pool is full, 503 with `Retry-After`."""
    by = time.monotonic() + state.settings.import_deadline_seconds
    outcome = await state.imports.run(
        import_url, state.runtime, workspace, body, by, owner=workspace.id, by=by
    )
    return _answer(state.runtime, outcome)


def _refuse_declared_oversize(request: Request, max_bytes: int) -> None:
    """Refuse early when Content-Length already says too much (it is never trusted as less)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLarge(max_bytes=max_bytes, size=int(declared))


def _seen(exc: BodyTooLarge | ObjectTooLarge) -> int:
    return exc.seen if isinstance(exc, BodyTooLarge) else exc.size


def _answer(runtime: Runtime, outcome: ConfirmOutcome) -> MediaOut:
    if outcome.error is not None:
        raise outcome.error
    return present(outcome.media, runtime.store)


def _create_and_confirm(
    runtime: Runtime, workspace: Workspace, reader: FormReader, *, media_id: str, storage_key: str
) -> MediaOut:
    assert reader.file is not None
    try:
        fields = DirectUploadFields.from_form(reader.fields)
    except ValidationError as exc:
        runtime.store.delete(storage_key)
        problems = [{"loc": [str(p) for p in e["loc"]], "msg": e["msg"]} for e in exc.errors()]
        raise ValidationFailed(errors=problems) from exc
    stored = flows.StoredBytes(
        media_id=media_id,
        storage_key=storage_key,
        filename=reader.file.filename,
        declared_content_type=reader.file.content_type,
        kind=fields.kind,
        tags=fields.tags,
        description=fields.description,
        tenant_id=fields.tenant_id,
    )
    return _answer(runtime, flows.confirm_stored(runtime, workspace, stored))
