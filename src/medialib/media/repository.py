from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    column,
    func,
    literal,
    or_,
    select,
    table,
    text,
    union,
    update,
)
from sqlalchemy.orm import Session, aliased, joinedload, selectinload

from medialib.media.models import VIEW_COLUMNS, Media, MediaStatus, MediaTag, MediaView
from medialib.media.paging import After
from medialib.media.schemas import MediaFilters, SortOrder
from medialib.posts.models import Post, PostMedia, PostStatus

# Past this many matches of a tag or a search, the sort's index is walked (see
# `_filtered`): fewer, and fetching the matches by id and sorting them is faster.
_WALK_ABOVE = 1_000
# SQLite's search index (migration 0013): the searchable text of each media, and its
# FTS5 trigram index.
_SEARCH = table("media_search", column("id"), column("media_id"))
_SEARCH_FTS = table("media_search_fts", column("rowid"))

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


def _past(after: After) -> ColumnElement[bool]:
    """Rows after the cursor in its sort (every key of a sort runs one way)."""
    created, media_id = Media.created_at, Media.id
    if after.sort == "name":
        name = func.lower(Media.filename)
        return or_(name > after.name, and_(name == after.name, media_id > after.media_id))
    tail = or_(
        created < after.created_at, and_(created == after.created_at, media_id < after.media_id)
    )
    if after.sort == "most_used":
        used = Media.usage_count
        return or_(used < after.usage_count, and_(used == after.usage_count, tail))
    return tail


def _phrase(q: str) -> str:
    """`q` as an FTS5 phrase: matched as a substring by the trigram tokenizer."""
    return '"' + q.replace('"', '""') + '"'


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


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
        """One page (`limit` + 1 rows: the extra one says whether more follow), the total
        of the whole list counted up to `count_up_to`, and whether that total is exact."""
        estimate = self._estimated_matches(workspace_id, filters)
        common = estimate is not None and estimate >= _WALK_ABOVE
        found = self._bounded_ids(workspace_id, filters, walk=common, estimate=estimate)
        found = found.limit(count_up_to + 1)
        matched: list[str] | None = None
        rare_on_postgres = bool(filters.q) and estimate is not None and not common
        if rare_on_postgres or (filters.q and filters.tag):
            # Few matches expected (a rare word; a word and a tag together): found once,
            # then both counted and paged from that list.
            matched = list(self.session.scalars(found))
            total = len(matched)
        else:
            total = int(
                self.session.scalar(select(func.count()).select_from(found.subquery())) or 0
            )
        walk = common or (total > min(_WALK_ABOVE, count_up_to) and bool(filters.q or filters.tag))
        if matched is not None and not walk:
            narrowed = dataclasses.replace(filters, q=None, tag=None)
            query = self._filtered(workspace_id, narrowed).where(Media.id.in_(matched))
        else:
            query = self._filtered(workspace_id, filters, walk=walk)
        page = query if after is None else query.where(_past(after))
        ordered = page.order_by(*self._order(filters.sort)).limit(limit + 1).offset(offset)
        items = self.session.scalars(ordered.options(selectinload(Media.tags))).all()
        return list(items), min(total, count_up_to), total <= count_up_to

    def _dialect(self) -> str:
        return self.session.get_bind().dialect.name

    def _estimated_matches(self, workspace_id: str, filters: MediaFilters) -> float | None:
        """How many rows PostgreSQL expects a search to match (its planner's estimate,
        from the column statistics; None elsewhere). Many: walking the sort's index and
        checking each row finds a page and a bounded count at once, where the trigram
        indexes would first collect every match."""
        if self._dialect() != "postgresql" or not filters.q:
            return None
        # Estimated on the name and description alone: the planner cannot estimate the tag
        # branch (a subquery), and a word common only in tags is merely slower this way.
        pattern = f"%{_escape_like(filters.q.lower())}%"
        query = select(Media.id).where(
            Media.workspace_id == workspace_id,
            Media.status != MediaStatus.DELETED,
            or_(
                func.lower(Media.filename).like(pattern, escape="\\"),
                func.lower(func.coalesce(Media.description, "")).like(pattern, escape="\\"),
            ),
        )
        compiled = query.compile(dialect=self.session.get_bind().dialect)
        plan: Any = (
            self.session.connection()
            .exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params)
            .scalar()
        )
        return float(plan[0]["Plan"]["Plan Rows"])

    def _tag_side_narrower(self, filters: MediaFilters, estimate: float | None) -> bool:
        """With a word and a tag: whether the tag has fewer rows than the word has
        matches (both bounded), so counting starts from the tag."""
        assert filters.q and filters.tag
        bound = 20_001
        tagged = select(MediaTag.media_id).where(MediaTag.tag == filters.tag).limit(bound)
        tag_rows = int(
            self.session.scalar(select(func.count()).select_from(tagged.subquery())) or 0
        )
        if estimate is not None:
            return tag_rows < estimate
        if not self._fts_usable(filters.q):
            return True  # a short word scans anyway: the tag narrows first
        words = select(_SEARCH_FTS.c.rowid).where(
            text("media_search_fts MATCH :phrase").bindparams(phrase=_phrase(filters.q))
        )
        word_rows = self.session.scalar(
            select(func.count()).select_from(words.limit(bound).subquery())
        )
        return tag_rows < int(word_rows or 0)

    def _bounded_ids(
        self,
        workspace_id: str,
        filters: MediaFilters,
        *,
        walk: bool = False,
        estimate: float | None = None,
    ) -> Select[Any]:
        """The ids of the matches, from the side that stops soonest once limited: a common
        word along the rows; a word and a tag from the narrower of the two; a SQLite
        search from its full-text index outward (each match found there, then its row
        checked); a tag from its index, each tagged row checked by its key (a correlated
        subquery: as a join, PostgreSQL hashed every tagged row); anything else along
        the filters."""
        if walk:
            return self._filtered(workspace_id, filters, walk=True).with_only_columns(Media.id)
        if filters.tag and (not filters.q or self._tag_side_narrower(filters, estimate)):
            tagged = aliased(MediaTag)  # the row check below has tags of its own
            untagged = dataclasses.replace(filters, tag=None)
            row_kept = (
                self._filtered(workspace_id, untagged, walk=True)
                .with_only_columns(literal(True))
                .where(Media.id == tagged.media_id)
                .scalar_subquery()
            )
            return select(tagged.media_id).where(
                tagged.tag == filters.tag, func.coalesce(row_kept, False)
            )
        if filters.q and self._fts_usable(filters.q):
            unsearched = dataclasses.replace(filters, q=None)
            return (
                self._filtered(workspace_id, unsearched)
                .with_only_columns(Media.id)
                .join(_SEARCH, _SEARCH.c.media_id == Media.id)
                .join(_SEARCH_FTS, _SEARCH_FTS.c.rowid == _SEARCH.c.id)
                .where(text("media_search_fts MATCH :phrase").bindparams(phrase=_phrase(filters.q)))
            )
        return self._filtered(workspace_id, filters).with_only_columns(Media.id)

    def _fts_usable(self, q: str) -> bool:
        return self._dialect() == "sqlite" and len(q) >= 3 and "\x1f" not in q

    def _filtered(
        self, workspace_id: str, filters: MediaFilters, *, walk: bool = False
    ) -> Select[Media]:
        """`walk`: for many matches of a tag or a search, the database walks the sort's
        index and checks each row as it comes (a tag by the row's own tags, a search by
        LIKE on its fields), stopping once the page is full, instead of fetching every
        match by id and sorting them all."""
        query = select(Media).where(
            Media.workspace_id == workspace_id, Media.status != MediaStatus.DELETED
        )
        if filters.ids is not None:
            query = query.where(Media.id.in_(filters.ids))
        if filters.kind:
            query = query.where(Media.kind == filters.kind)
        if filters.status:
            query = query.where(Media.status == filters.status)
        if filters.tenant_id:
            query = query.where(Media.tenant_id == filters.tenant_id)
        if filters.tag:
            if walk:
                query = query.where(
                    select(MediaTag.media_id)
                    .where(MediaTag.media_id == Media.id, MediaTag.tag == filters.tag)
                    .exists()
                )
            else:
                tagged = select(MediaTag.media_id).where(MediaTag.tag == filters.tag)
                query = query.where(Media.id.in_(tagged))
        if filters.created_after:
            query = query.where(Media.created_at >= filters.created_after)
        if filters.created_before:
            query = query.where(Media.created_at < filters.created_before)
        if filters.q:
            query = query.where(self._matching(filters.q, walk=walk))
        return query

    def _matching(self, q: str, *, walk: bool = False) -> ColumnElement[bool]:
        """Media whose filename, description or a tag holds `q` (any case), through the
        search index of the database (migration 0013) where one can answer: SQLite's
        FTS5 trigram table for three characters or more, PostgreSQL's trigram indexes
        (one indexed branch per field, so no OR defeats them); a scan otherwise, and when
        walking (a common word: checking rows in order finds a page at once)."""
        dialect = self._dialect()
        if not walk and self._fts_usable(q):
            # A trigram phrase query is a substring match, answered from the index alone
            # (a LIKE would re-read every candidate's text): 5-10x faster on common words.
            found = text(
                "SELECT s.media_id FROM media_search_fts f JOIN media_search s ON s.id = f.rowid "
                "WHERE media_search_fts MATCH :phrase"
            ).bindparams(phrase=_phrase(q))
            return Media.id.in_(found.columns(column("media_id")))
        pattern = f"%{_escape_like(q.lower())}%"
        by_name = func.lower(Media.filename).like(pattern, escape="\\")
        by_description = func.lower(func.coalesce(Media.description, "")).like(pattern, escape="\\")
        by_tag = select(MediaTag.media_id).where(
            func.lower(MediaTag.tag).like(pattern, escape="\\")
        )
        if walk:
            # Checked per row through the tags' primary key. PostgreSQL would turn an
            # EXISTS under OR into a hash of every matching tag first (a scan of them
            # all), so there it is a correlated aggregate, which it cannot hash.
            tag_matches = func.lower(MediaTag.tag).like(pattern, escape="\\")
            mine = MediaTag.media_id == Media.id
            if dialect == "postgresql":
                any_tag = select(func.bool_or(tag_matches)).where(mine).scalar_subquery()
                row_tagged: ColumnElement[bool] = func.coalesce(any_tag, False)
            else:
                row_tagged = select(MediaTag.media_id).where(mine, tag_matches).exists()
            return or_(by_name, by_description, row_tagged)
        if dialect == "postgresql":
            return Media.id.in_(
                union(
                    select(Media.id).where(by_name),
                    select(Media.id).where(by_description),
                    by_tag,
                )
            )
        return or_(by_name, by_description, Media.id.in_(by_tag))

    @staticmethod
    def _order(sort: SortOrder) -> tuple[Any, ...]:
        if sort == "name":
            return (func.lower(Media.filename).asc(), Media.id.asc())
        if sort == "most_used":
            return (Media.usage_count.desc(), Media.created_at.desc(), Media.id.desc())
        return (Media.created_at.desc(), Media.id.desc())

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

    def scheduled_posts_using(self, media_id: str) -> list[str]:
        query = (
            select(Post.id)
            .join(PostMedia, PostMedia.post_id == Post.id)
            .where(PostMedia.media_id == media_id, Post.status == PostStatus.SCHEDULED)
        )
        return list(self.session.scalars(query).all())

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
