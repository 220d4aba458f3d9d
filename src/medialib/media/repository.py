from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    bindparam,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.orm import Session, joinedload, selectinload

from medialib.media.models import (
    VIEW_COLUMNS,
    Media,
    MediaPin,
    MediaStatus,
    MediaTag,
    MediaView,
    PostCut,
)
from medialib.media.paging import After
from medialib.media.schemas import MediaFilters
from medialib.media.search import MediaSearch

# Media whose bytes the workspace keeps (and which count against its quota).
_KEPT = (MediaStatus.PROCESSING, MediaStatus.READY, MediaStatus.DELETED)


# Selects used on every request, built once: composing one is a third of its time.
_ONE = (
    select(Media)
    .where(Media.id == bindparam("media_id"), Media.workspace_id == bindparam("workspace_id"))
    .options(joinedload(Media.tags))
)
_VIEW = (
    select(*(getattr(Media, name) for name in VIEW_COLUMNS), MediaTag.tag)
    .outerjoin(MediaTag, MediaTag.media_id == Media.id)
    .where(Media.id == bindparam("media_id"), Media.workspace_id == bindparam("workspace_id"))
    .order_by(MediaTag.position)
)


class MediaRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, media: Media) -> Media:
        self.session.add(media)
        self.session.flush()
        return media

    def get_for_update(self, workspace_id: str, media_id: str) -> Media | None:
        """The workspace's media row, locked until the transaction ends (PostgreSQL).

        SQLite needs no row lock: every transaction there begins IMMEDIATE (see db.py).
        """
        query = (
            select(Media)
            .where(Media.id == media_id, Media.workspace_id == workspace_id)
            .options(selectinload(Media.tags))
            .with_for_update()
            # Fresh values even when this session loaded the row before taking the lock.
            .execution_options(populate_existing=True)
        )
        return self.session.scalar(query)

    def get(self, workspace_id: str, media_id: str) -> Media | None:
        """One round trip: the row and its tags joined (the hottest read of the API)."""
        found = self.session.scalars(_ONE, {"media_id": media_id, "workspace_id": workspace_id})
        return found.unique().one_or_none()

    def view(self, workspace_id: str, media_id: str) -> MediaView | None:
        """The hottest read of the API: one round trip (the row joined to its tags), read
        as plain rows rather than loaded into an instance."""
        rows = self.session.connection().execute(
            _VIEW, {"media_id": media_id, "workspace_id": workspace_id}
        )
        found = rows.all()
        if not found:
            return None
        tags = [row[-1] for row in found if row[-1] is not None]
        return MediaView.from_columns(found[0][:-1], tags)

    def mark_uploaded(self, media_id: str, *, filename: str) -> None:
        """Bytes made on the server (a generation) are in: the media may be confirmed."""
        self.session.execute(
            update(Media)
            .where(Media.id == media_id, Media.status == MediaStatus.PROCESSING)
            .values(status=MediaStatus.UPLOADED, filename=filename)
        )

    def get_by_id(self, media_id: str) -> Media | None:
        """For jobs, which carry ids only (the workspace check happened when enqueued)."""
        return self.session.scalar(
            select(Media).where(Media.id == media_id).options(selectinload(Media.tags))
        )

    def search(
        self,
        workspace_id: str,
        filters: MediaFilters,
        *,
        limit: int,
        offset: int,
        after: After | None = None,
        count_up_to: int = 1_000,
    ) -> tuple[list[Media], int, bool]:
        """One page of the list (see media/search.py, the search planner)."""
        return MediaSearch(self.session).page(
            workspace_id, filters, limit=limit, offset=offset, after=after, count_up_to=count_up_to
        )

    def processed_duplicate(
        self, workspace_id: str, *, checksum_sha256: str, kind: str, exclude_id: str
    ) -> Media | None:
        """An earlier asset of the workspace with the same bytes whose processing is done."""
        query = (
            select(Media)
            .where(
                Media.workspace_id == workspace_id,
                Media.checksum_sha256 == checksum_sha256,
                Media.kind == kind,
                Media.status == MediaStatus.READY,
                Media.id != exclude_id,
            )
            .order_by(Media.created_at)
            .limit(1)
        )
        return self.session.scalar(query)

    def trash(self, workspace_id: str, *, limit: int, offset: int) -> tuple[list[Media], int]:
        in_trash = select(Media).where(
            Media.workspace_id == workspace_id, Media.status == MediaStatus.DELETED
        )
        total = self.session.scalar(select(func.count()).select_from(in_trash.subquery())) or 0
        query = (
            in_trash.order_by(Media.deleted_at.desc(), Media.id.desc())
            .limit(limit)
            .offset(offset)
            .options(selectinload(Media.tags))
        )
        return list(self.session.scalars(query).all()), total

    def trash_older_than(self, moment: dt.datetime, *, limit: int = 1000) -> list[Media]:
        query = (
            select(Media)
            .where(Media.status == MediaStatus.DELETED, Media.deleted_at < moment)
            .limit(limit)
        )
        return list(self.session.scalars(query).all())

    def usage(self, workspace_id: str) -> dict[str, tuple[int, int]]:
        """(count, bytes) per kind of the media kept for the workspace, trash included."""
        query = (
            select(Media.kind, func.count(), func.coalesce(func.sum(Media.size), 0))
            .where(
                Media.workspace_id == workspace_id,
                Media.status.in_(_KEPT),
            )
            .group_by(Media.kind)
        )
        rows = self.session.execute(query).all()
        return {kind: (int(count or 0), int(size or 0)) for kind, count, size in rows}

    def by_ids(
        self, workspace_id: str, media_ids: list[str], *, with_tags: bool = False
    ) -> list[Media]:
        """The workspace's media among `media_ids` (any status); `with_tags`: each one's
        tags loaded in one more query (to present them)."""
        query = select(Media).where(Media.workspace_id == workspace_id, Media.id.in_(media_ids))
        if with_tags:
            query = query.options(selectinload(Media.tags))
        return list(self.session.scalars(query).all())

    def by_ids_anywhere(self, media_ids: list[str]) -> list[Media]:
        """The media among `media_ids`, of any workspace and status (gc)."""
        if not media_ids:
            return []
        return list(self.session.scalars(select(Media).where(Media.id.in_(media_ids))).all())

    def count_usage(self, media_ids: list[str], step: int) -> None:
        """Add `step` to each media's `usage_count` in one UPDATE (never below zero)."""
        if not media_ids:
            return
        query = update(Media).where(Media.id.in_(set(media_ids)))
        if step < 0:
            query = query.where(Media.usage_count > 0)
        self.session.execute(
            query.values(usage_count=Media.usage_count + step).execution_options(
                synchronize_session=False
            )
        )

    def kept(self, workspace_id: str) -> list[Media]:
        """Every media of the workspace outside the trash."""
        query = select(Media).where(
            Media.workspace_id == workspace_id, Media.status != MediaStatus.DELETED
        )
        return list(self.session.scalars(query).all())

    def expiring(self, *, before: dt.datetime, limit: int = 1000) -> list[Media]:
        """Media outside the trash whose retention ends before `before`, not yet announced."""
        query = (
            select(Media)
            .where(
                Media.status != MediaStatus.DELETED,
                Media.expires_at < before,
                Media.expiry_notified_at.is_(None),
            )
            .limit(limit)
        )
        return list(self.session.scalars(query).all())

    def retention_over(self, *, now: dt.datetime, limit: int = 1000) -> list[Media]:
        """Media outside the trash whose retention has ended."""
        query = (
            select(Media)
            .where(Media.status != MediaStatus.DELETED, Media.expires_at < now)
            .options(selectinload(Media.tags))
            .limit(limit)
        )
        return list(self.session.scalars(query).all())

    def pin_holders(self, media_id: str) -> list[str]:
        """Who holds a pin on the media (scheduled or publishing posts): it stays."""
        query = select(MediaPin.holder_id).where(MediaPin.media_id == media_id)
        return list(self.session.scalars(query.order_by(MediaPin.holder_id)).all())

    def pin(self, workspace_id: str, holder_id: str, media_ids: list[str]) -> None:
        """Hold these media for `holder_id` (its earlier pins are replaced)."""
        self.unpin(holder_id)
        for media_id in dict.fromkeys(media_ids):
            self.session.add(
                MediaPin(media_id=media_id, holder_id=holder_id, workspace_id=workspace_id)
            )
        self.session.flush()

    def unpin(self, holder_id: str) -> None:
        self.session.execute(delete(MediaPin).where(MediaPin.holder_id == holder_id))

    def bytes_kept(self, workspace_id: str, *, exclude_id: str | None = None) -> int:
        """Bytes counted against the quota: media kept, trash included."""
        query = select(func.coalesce(func.sum(Media.size), 0)).where(
            Media.workspace_id == workspace_id, Media.status.in_(_KEPT)
        )
        if exclude_id is not None:
            query = query.where(Media.id != exclude_id)
        return int(self.session.scalar(query) or 0)

    def abandoned_uploads(self, *, before: dt.datetime, limit: int = 1000) -> list[Media]:
        query = (
            select(Media)
            .where(Media.status == MediaStatus.PENDING_UPLOAD, Media.upload_expires_at < before)
            .limit(limit)
        )
        return list(self.session.scalars(query).all())

    def remove(self, media: Media) -> None:
        self.session.delete(media)
        self.session.flush()

    def replace_tags(self, media: Media, tags: list[str]) -> None:
        media.tags = [MediaTag(tag=tag, position=index) for index, tag in enumerate(tags)]
        self.session.flush()

    def all_of_workspace(self, workspace_id: str, *, limit: int = 500) -> list[Media]:
        """Some media of a workspace, whatever their state (purging a deleted workspace)."""
        query = select(Media).where(Media.workspace_id == workspace_id).limit(limit)
        return list(self.session.scalars(query.options(selectinload(Media.tags))).all())

    # --- files cut from a media for one post's target (variants/carousel.py)

    def add_cut(self, cut: PostCut) -> bool:
        """Keep a cut unless its target has one of that media already."""
        if self.session.get(PostCut, (cut.target_id, cut.media_id)) is not None:
            return False
        self.session.add(cut)
        self.session.flush()
        return True

    def cut_keys_for(self, media_ids: list[str]) -> set[str]:
        """The stored objects cut from these media for posts (gc keeps what a row names)."""
        if not media_ids:
            return set()
        query = select(PostCut.key).where(PostCut.media_id.in_(media_ids))
        return set(self.session.scalars(query))

    def is_cut(self, media_id: str, key: str) -> bool:
        query = select(PostCut.key).where(PostCut.media_id == media_id, PostCut.key == key)
        return self.session.scalars(query.limit(1)).first() is not None
