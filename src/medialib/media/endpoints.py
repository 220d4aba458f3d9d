"""Media library routes: thin over the media services; the route commits the request's
transaction. Upload and confirm routes live with the uploads (`uploads/endpoints.py`)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BeforeValidator

from medialib.deps import CurrentWorkspace, SessionDep, StateDep, reading
from medialib.errors import ValidationFailed
from medialib.media.models import Media, MediaKind, MediaStatus
from medialib.media.presenter import present
from medialib.media.schemas import (
    BulkDelete,
    BulkDeleted,
    BulkTagged,
    BulkTags,
    MediaFilters,
    MediaList,
    MediaOut,
    MediaUpdate,
    SortOrder,
    ThumbnailAccepted,
    ThumbnailRequest,
)
from medialib.media.service import MediaLibrary
from medialib.media.thumbnails import Thumbnails
from medialib.platforms.rules import catalog
from medialib.schemas import Deleted, Pagination, json_body, tagged_json_body
from medialib.storage.base import ObjectBytes


def _text_only(value: object) -> object:
    """A date is written as a date (RFC 3339), never as a bare number of seconds."""
    if isinstance(value, str) and value.strip().lstrip("+-").replace(".", "", 1).isdigit():
        raise ValueError("give a date and time (RFC 3339), e.g. 2026-11-28T09:00:00Z")
    return value


DateTimeQuery = Annotated[dt.datetime | None, BeforeValidator(_text_only)]

router = APIRouter(prefix="/v1/media", tags=["media"])
MAX_LIST_IDS = 100


async def media_library(session: SessionDep, state: StateDep) -> MediaLibrary:
    return MediaLibrary(session, settings=state.settings)


LibraryDep = Annotated[MediaLibrary, Depends(media_library)]


@router.get("/trash", response_model=MediaList)
def list_trash(
    workspace: CurrentWorkspace,
    library: LibraryDep,
    state: StateDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> MediaList:
    """Deleted media, most recently deleted first; each is purged at its `expires_at`
    (30 days after deletion) unless restored."""
    items, total = library.trash(workspace, limit=limit, offset=offset)
    return _page(items, total, limit=limit, offset=offset, store=state.store)


@router.post("/{media_id}/restore", response_model=MediaOut)
def restore_media(
    media_id: str,
    workspace: CurrentWorkspace,
    library: LibraryDep,
    session: SessionDep,
    state: StateDep,
) -> MediaOut:
    """Take media out of the trash; 409 `invalid_state` when it is not in the trash."""
    media = library.restore(workspace, media_id)
    session.commit()
    return present(media, state.store)


@router.post("/bulk-delete", response_model=BulkDeleted)
def bulk_delete(
    body: BulkDelete, workspace: CurrentWorkspace, library: LibraryDep, session: SessionDep
) -> BulkDeleted:
    """Move up to 100 media to the trash in one call; unknown ids come back in `not_found`,
    ids a scheduled post uses in `in_use` (those stay)."""
    deleted, not_found, in_use = library.delete_many(workspace, body.ids)
    session.commit()
    return BulkDeleted(deleted=deleted, not_found=not_found, in_use=in_use)


@router.post("/bulk-tags", response_model=BulkTagged)
def bulk_tags(
    body: BulkTags, workspace: CurrentWorkspace, library: LibraryDep, session: SessionDep
) -> BulkTagged:
    """Add and remove tags on up to 100 media in one call (removal ignores case; a tag
    already there is not added twice); unknown ids come back in `not_found`."""
    updated, not_found = library.tag_many(
        workspace, body.ids, add=body.add or [], remove=body.remove or []
    )
    session.commit()
    return BulkTagged(updated=updated, not_found=not_found)


@router.post("/{media_id}/thumbnail", status_code=202, response_model=ThumbnailAccepted)
def request_thumbnail(
    media_id: str,
    workspace: CurrentWorkspace,
    session: SessionDep,
    state: StateDep,
    body: ThumbnailRequest | None = None,
) -> ThumbnailAccepted:
    """Set a new preview: `{"frame_time_ms": 5000}` (videos), `{"source_media_id": "med_…"}`
    (a ready image of the same workspace) or `{}` to regenerate the default.

    The media is `processing` until the job has run, then `ready` with the new preview
    (`thumbnail.source` = generated or custom). Repeating the same request while it runs
    answers the same.
    """
    ask = (body or ThumbnailRequest()).as_request()
    media = Thumbnails(session, settings=state.settings).request(workspace, media_id, ask)
    session.commit()
    return ThumbnailAccepted(id=media.id, status=media.status)


@router.get("/{media_id}", response_model=MediaOut)
def get_media(
    media_id: str, request: Request, workspace: CurrentWorkspace, state: StateDep
) -> Response:
    """One media object; 404 when it is missing, deleted or another workspace's. Its
    `ETag` lets a poller ask `If-None-Match` and get 304 until something changed."""
    with reading(state) as session:
        media = MediaLibrary(session, settings=state.settings).view(workspace, media_id)
        return tagged_json_body(present(media, state.store), request.headers.get("if-none-match"))


@router.get("", response_model=MediaList)
def list_media(
    request: Request,
    workspace: CurrentWorkspace,
    state: StateDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    cursor: Annotated[str | None, Query(min_length=1, max_length=1000)] = None,
    kind: MediaKind | None = None,
    status: MediaStatus | None = None,
    tag: Annotated[str | None, Query(max_length=100)] = None,
    tenant_id: Annotated[str | None, Query(max_length=200)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    created_after: DateTimeQuery = None,
    created_before: DateTimeQuery = None,
    sort: SortOrder = "recent",
    ids: Annotated[str | None, Query(max_length=4200, pattern=r"^[A-Za-z0-9_,]*$")] = None,
    ready_for: Annotated[str | None, Query(max_length=32, pattern=r"^[a-z0-9_]+$")] = None,
) -> Response:
    """Media of the workspace, newest first unless `sort` says otherwise.

    `ids` (comma-separated, at most 100) keeps only those media: one request for every
    item a page is waiting on. `ready_for` (a network id, as `GET /v1/platforms` names
    it) keeps the media that network can take now, as it is or by a current variant.

    `q` searches filename, tags and description (one or two characters: names beginning
    with them, and that exact tag; a search without a letter or digit is refused, 422,
    as no index can look punctuation up); `total` counts every match (exactly up to 1,000 by
    default; past that `total_exact` is false). `offset` goes to 10,000: for deeper pages
    follow `pagination.next_cursor` (also in the `Link` header).
    """
    if offset > MAX_OFFSET:
        # Skipping half a million rows is the database's work however it is asked: a
        # cursor reaches any page at the cost of the first.
        raise ValidationFailed(
            f"offset is at most {MAX_OFFSET:,}: for deeper pages follow "
            "pagination.next_cursor (or the Link header).",
            field="offset",
        )
    filters = MediaFilters(
        kind=kind,
        status=status,
        tag=tag,
        tenant_id=tenant_id,
        q=q.strip() if q and q.strip() else None,
        created_after=_aware(created_after),
        created_before=_aware(created_before),
        sort=sort,
        ids=_ids(ids),
        ready_for=_network(ready_for),
    )
    with reading(state) as session:
        library = MediaLibrary(session, settings=state.settings)
        page = library.search(workspace, filters, limit=limit, offset=offset, cursor=cursor)
        headers = {}
        if page.next_cursor is not None:
            following = request.url.remove_query_params("offset").include_query_params(
                cursor=page.next_cursor
            )
            headers["Link"] = f'<{following}>; rel="next"'
        listed = MediaList(
            data=[present(media, state.store) for media in page.items],
            pagination=Pagination(
                limit=limit,
                offset=offset,
                total=page.total,
                total_exact=page.total_exact,
                next_cursor=page.next_cursor,
            ),
        )
        return json_body(listed, headers=headers)


@router.patch("/{media_id}", response_model=MediaOut)
def update_media(
    media_id: str,
    body: MediaUpdate,
    workspace: CurrentWorkspace,
    library: LibraryDep,
    session: SessionDep,
    state: StateDep,
) -> MediaOut:
    """Change tags, description or filename."""
    media = library.update(workspace, media_id, body)
    session.commit()
    return present(media, state.store)


@router.delete("/{media_id}", response_model=Deleted)
def delete_media(
    media_id: str, workspace: CurrentWorkspace, library: LibraryDep, session: SessionDep
) -> Deleted:
    """Move media to the trash; 404 when missing or already deleted."""
    media = library.delete(workspace, media_id)
    session.commit()
    return Deleted(id=media.id, deleted=True)


def _page(
    items: list[Media], total: int, *, limit: int, offset: int, store: ObjectBytes
) -> MediaList:
    return MediaList(
        data=[present(media, store) for media in items],
        pagination=Pagination(limit=limit, offset=offset, total=total),
    )


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.UTC)


MAX_OFFSET = 10_000


def _network(name: str | None) -> str | None:
    if name is not None and name not in catalog().networks:
        known = ", ".join(catalog().networks)
        raise ValidationFailed(f"ready_for: no network {name!r}; one of {known}.")
    return name


def _ids(raw: str | None) -> tuple[str, ...] | None:
    if raw is None:
        return None
    ids = tuple(dict.fromkeys(part for part in raw.split(",") if part))
    if len(ids) > MAX_LIST_IDS:
        raise ValidationFailed(f"At most {MAX_LIST_IDS} ids at a time.", field="ids")
    return ids
