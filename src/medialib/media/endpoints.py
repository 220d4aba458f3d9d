"""Media routes: thin over `MediaService`; the route commits the request's transaction."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from medialib.deps import AppState, CurrentWorkspace, MediaServiceDep, SessionDep, StateDep
from medialib.media.models import Media, MediaKind, MediaStatus
from medialib.media.presenter import present, present_variant
from medialib.media.repository import MediaFilters, SortOrder
from medialib.media.schemas import (
    BulkDelete,
    BulkDeleted,
    Deleted,
    KindUsage,
    MediaList,
    MediaOut,
    MediaUpdate,
    Pagination,
    PlatformVerdict,
    ThumbnailAccepted,
    ThumbnailRequest,
    UploadRequest,
    UploadResponse,
    Usage,
    Variants,
)
from medialib.storage.base import ObjectStore
from medialib.uploads.resumable import OFFSET_CONTENT_TYPE, TUS_VERSION, ResumableUploads
from medialib.workspaces.models import Workspace

router = APIRouter(prefix="/v1/media", tags=["media"])
usage_router = APIRouter(prefix="/v1", tags=["usage"])


@usage_router.get("/usage", response_model=Usage)
def usage(workspace: CurrentWorkspace, service: MediaServiceDep) -> Usage:
    """Storage the workspace uses: media kept (ready, processing and in the trash), bytes."""
    by_kind = service.usage(workspace)
    return Usage(
        media_count=sum(count for count, _ in by_kind.values()),
        bytes_used=sum(size for _, size in by_kind.values()),
        quota_bytes=service.quota(workspace),
        by_kind={kind: KindUsage(count=c, bytes=b) for kind, (c, b) in by_kind.items()},
    )


@router.post("/upload", status_code=201, response_model=UploadResponse)
def request_upload(
    body: UploadRequest,
    workspace: CurrentWorkspace,
    service: MediaServiceDep,
    session: SessionDep,
    state: StateDep,
) -> UploadResponse:
    """Reserve a media id and get a URL to send its bytes to.

    `mode=single` (default): send the bytes with exactly the returned `method` and
    `headers`, then call confirm. `mode=resumable` (needs `size`): the URL is a tus upload;
    send PATCHes with `Upload-Offset` and your key, ask HEAD where it got to after a break;
    the last byte confirms it. A declared `size` over the kind's cap answers 413 at once.
    """
    if body.mode == "resumable":
        return _resumable_upload(body, workspace, session, state)
    upload = service.request_upload(workspace, body)
    session.commit()
    return UploadResponse(
        id=upload.media.id,
        upload_url=upload.target.url,
        method=upload.target.method,
        headers=upload.target.headers,
        expires_at=upload.media.upload_expires_at,
    )


def _resumable_upload(
    body: UploadRequest, workspace: Workspace, session: Session, state: AppState
) -> UploadResponse:
    uploads = ResumableUploads(session, store=state.store, settings=state.settings)
    view = uploads.create(workspace, body)
    session.commit()
    return UploadResponse(
        id=view.media_id,
        upload_url=f"{state.settings.public_base_url}{view.path}",
        method="PATCH",
        headers={"Tus-Resumable": TUS_VERSION, "Content-Type": OFFSET_CONTENT_TYPE},
        expires_at=view.expires_at,
        mode="resumable",
    )


@router.post("/{media_id}/confirm", response_model=MediaOut)
def confirm_upload(
    media_id: str,
    workspace: CurrentWorkspace,
    service: MediaServiceDep,
    session: SessionDep,
    state: StateDep,
) -> MediaOut:
    """Check the uploaded bytes and start processing.

    Verifies the object, records its size, re-checks the cap, sniffs the type from the
    bytes, and has ClamAV scan them when it is configured (an infected file answers 422
    `media_rejected_security` with the threat, and its bytes are removed; a scanner that
    cannot answer, 503). Images come back `ready`; other kinds `processing`. Idempotent: repeated or
    parallel confirms make one transition and get the same answer.
    """
    outcome = service.scan_then_confirm(workspace, media_id)
    session.commit()
    if outcome.error is not None:
        raise outcome.error
    return present(outcome.media, state.store)


@router.get("/trash", response_model=MediaList)
def list_trash(
    workspace: CurrentWorkspace,
    service: MediaServiceDep,
    state: StateDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> MediaList:
    """Deleted media, most recently deleted first; each is purged at its `expires_at`
    (30 days after deletion) unless restored."""
    items, total = service.trash(workspace, limit=limit, offset=offset)
    return _page(items, total, limit=limit, offset=offset, store=state.store)


@router.post("/{media_id}/restore", response_model=MediaOut)
def restore_media(
    media_id: str,
    workspace: CurrentWorkspace,
    service: MediaServiceDep,
    session: SessionDep,
    state: StateDep,
) -> MediaOut:
    """Take media out of the trash; 409 `invalid_state` when it is not in the trash."""
    media = service.restore(workspace, media_id)
    session.commit()
    return present(media, state.store)


@router.post("/bulk-delete", response_model=BulkDeleted)
def bulk_delete(
    body: BulkDelete, workspace: CurrentWorkspace, service: MediaServiceDep, session: SessionDep
) -> BulkDeleted:
    """Move up to 100 media to the trash in one call; unknown ids come back in `not_found`,
    ids a scheduled post uses in `in_use` (those stay)."""
    deleted, not_found, in_use = service.delete_many(workspace, body.ids)
    session.commit()
    return BulkDeleted(deleted=deleted, not_found=not_found, in_use=in_use)


@router.post("/{media_id}/thumbnail", status_code=202, response_model=ThumbnailAccepted)
def request_thumbnail(
    media_id: str,
    workspace: CurrentWorkspace,
    service: MediaServiceDep,
    session: SessionDep,
    body: ThumbnailRequest | None = None,
) -> ThumbnailAccepted:
    """Set a new preview: `{"frame_time_ms": 5000}` (videos), `{"source_media_id": "med_…"}`
    (a ready image of the same workspace) or `{}` to regenerate the default.

    The media is `processing` until the job has run, then `ready` with the new preview
    (`thumbnail.source` = generated or custom). Repeating the same request while it runs
    answers the same.
    """
    request = (body or ThumbnailRequest()).as_request()
    media = service.request_thumbnail(workspace, media_id, request)
    session.commit()
    return ThumbnailAccepted(id=media.id, status=media.status)


@router.get("/{media_id}/variants", response_model=Variants)
def media_variants(
    media_id: str, workspace: CurrentWorkspace, service: MediaServiceDep, state: StateDep
) -> Variants:
    """Each network's verdict on this media: green (taken as it is), amber (taken once a
    variant is made: smaller, resized, converted) or red (not taken), with reasons, and
    for an image or a video the variant made for each amber network (made ahead of time
    once it is ready; one file may serve several networks). The limits come from the
    platforms data file."""
    media, verdicts = service.platform_verdicts(workspace, media_id)
    made = [present_variant(entry, state.store) for entry in media.variants or []]
    for_platform = {name: variant for variant in made for name in variant.platforms}
    status = "pending" if media.kind in (MediaKind.IMAGE, MediaKind.VIDEO) else "none"
    return Variants(
        id=media.id,
        platforms=[
            PlatformVerdict(
                platform=v.platform,
                verdict=v.verdict,
                reasons=v.reasons,
                variant=for_platform.get(v.platform),
            )
            for v in verdicts
        ],
        variants=made,
        variants_status="ready" if media.variants is not None else status,
    )


@router.get("/{media_id}", response_model=MediaOut)
def get_media(
    media_id: str, workspace: CurrentWorkspace, service: MediaServiceDep, state: StateDep
) -> MediaOut:
    """One media object; 404 when it is missing, deleted or another workspace's."""
    return present(service.get(workspace, media_id), state.store)


@router.get("", response_model=MediaList)
def list_media(
    workspace: CurrentWorkspace,
    service: MediaServiceDep,
    state: StateDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    kind: MediaKind | None = None,
    status: MediaStatus | None = None,
    tag: Annotated[str | None, Query(max_length=100)] = None,
    tenant_id: Annotated[str | None, Query(max_length=200)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    created_after: dt.datetime | None = None,
    created_before: dt.datetime | None = None,
    sort: SortOrder = "recent",
) -> MediaList:
    """Media of the workspace, newest first unless `sort` says otherwise.

    `q` searches filename, tags and description; `total` counts every match.
    """
    filters = MediaFilters(
        kind=kind,
        status=status,
        tag=tag,
        tenant_id=tenant_id,
        q=q.strip() if q and q.strip() else None,
        created_after=_aware(created_after),
        created_before=_aware(created_before),
        sort=sort,
    )
    items, total = service.search(workspace, filters, limit=limit, offset=offset)
    return _page(items, total, limit=limit, offset=offset, store=state.store)


@router.patch("/{media_id}", response_model=MediaOut)
def update_media(
    media_id: str,
    body: MediaUpdate,
    workspace: CurrentWorkspace,
    service: MediaServiceDep,
    session: SessionDep,
    state: StateDep,
) -> MediaOut:
    """Change tags, description or filename."""
    media = service.update(workspace, media_id, body)
    session.commit()
    return present(media, state.store)


@router.delete("/{media_id}", response_model=Deleted)
def delete_media(
    media_id: str, workspace: CurrentWorkspace, service: MediaServiceDep, session: SessionDep
) -> Deleted:
    """Move media to the trash; 404 when missing or already deleted."""
    media = service.delete(workspace, media_id)
    session.commit()
    return Deleted(id=media.id, deleted=True)


def _page(
    items: list[Media], total: int, *, limit: int, offset: int, store: ObjectStore
) -> MediaList:
    return MediaList(
        data=[present(media, store) for media in items],
        pagination=Pagination(limit=limit, offset=offset, total=total),
    )


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.UTC)
