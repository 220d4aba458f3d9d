"""The search planner behind the media list: which side of a query stops soonest at a
million rows (the sort's index walked and each row checked, a tag's index, SQLite's FTS5
trigram index, PostgreSQL's GIN index over each row's tags and text and its planner's
estimate), and the keyset page after a cursor. All SQL; used by MediaRepository.search.
See docs/decisions.md."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Text,
    and_,
    column,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, aliased, selectinload

from medialib.media.models import Media, MediaReadiness, MediaStatus, MediaTag
from medialib.media.paging import After
from medialib.media.schemas import MediaFilters, SortOrder

# Past this many matches of a tag or a search, the sort's index is walked (see
# `_filtered`): fewer, and fetching the matches by id and sorting them is faster.
_WALK_ABOVE = 1_000
# ... and only where they are this share of the rows or more (PostgreSQL's estimate):
# counting to 1,000 then walks at most 50,000 rows.
_DENSE_SHARE = 0.02
# A tag's rows are counted this far: below it, a word and the tag are found together
# by SQLite's full-text index (see `_pair_ids`).
_TAG_ROWS_COUNTED = 20_001
# Shorter searches match names by their beginning (see `_beginning`).
_SHORTEST_SEARCH = 3
# SQLite's search index (migration 0013): the searchable text of each media, and its
# FTS5 trigram index.
_SEARCH = table("media_search", column("id"), column("media_id"))
_SEARCH_FTS = table("media_search_fts", column("rowid"))
# PostgreSQL's (migration 0023): on each media row, its tags and its lowered filename,
# description and tags, fields apart by char 31, under one GIN index (tags, trigrams).
_TAG_LIST = literal_column("media.tag_list", ARRAY(Text))
_BODY = literal_column("media.search_body", Text)
_SEPARATOR = "\x1f"  # between the fields of a body: in no filename or tag


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


class MediaSearch:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._tag_counts: dict[str, int] = {}  # one page's tag counts, asked twice

    def page(
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
        if self._pairable(filters):
            return self._pair_page(workspace_id, filters, limit, offset, after, count_up_to)
        estimate = self._estimated_matches(workspace_id, filters)
        common = estimate is not None and estimate >= _WALK_ABOVE and self._dense(filters.q or "")
        found = self._bounded_ids(workspace_id, filters, walk=common)
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
        if len(filters.q) < _SHORTEST_SEARCH:
            return None  # a name's beginning: an index answers it whatever its count
        query = select(Media.id).where(
            Media.workspace_id == workspace_id,
            Media.status != MediaStatus.DELETED,
            _in_body(filters.q),
        )
        return self._planned_rows(query)

    def _dense(self, q: str) -> bool:
        """Whether the word's matches are dense enough among the rows for walking to reach
        a bounded count soon: the planner's share for the pattern alone (so a workspace
        that is a small part of the table is judged by the word, not by its size). At the
        planner's floor for a word its statistics never saw (one row in ten thousand:
        1,000 rows at 10 M) a walk would read the whole table to count to 1,000."""
        query = select(Media.id).where(_in_body(q))
        rows = self.session.scalar(
            text("SELECT reltuples FROM pg_class WHERE oid = 'media'::regclass")
        )
        return self._planned_rows(query) >= _DENSE_SHARE * max(float(rows or 0), 1.0)

    def _planned_rows(self, query: Select[Any]) -> float:
        """The rows PostgreSQL's planner expects `query` to give (planned, not run)."""
        compiled = query.compile(dialect=self.session.get_bind().dialect)
        plan: Any = (
            self.session.connection()
            .exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params)
            .scalar()
        )
        return float(plan[0]["Plan"]["Plan Rows"])

    def _tag_rows(self, tag: str) -> int:
        """How many rows carry the tag, counted no further than `_TAG_ROWS_COUNTED`."""
        if tag not in self._tag_counts:
            tagged = select(MediaTag.media_id).where(MediaTag.tag == tag).limit(_TAG_ROWS_COUNTED)
            counted = self.session.scalar(select(func.count()).select_from(tagged.subquery()))
            self._tag_counts[tag] = int(counted or 0)
        return self._tag_counts[tag]

    def _tag_side_narrower(self, q: str, tag_rows: int) -> bool:
        """With a word and a tag (SQLite): whether the tag has fewer rows than the word
        has matches (both bounded), so counting starts from the tag."""
        if not self._fts_usable(q):
            return True  # a short word scans anyway: the tag narrows first
        words = select(_SEARCH_FTS.c.rowid).where(
            text("media_search_fts MATCH :phrase").bindparams(phrase=_phrase(q))
        )
        # Only whether the word has more matches than the tag has rows matters: counted
        # no further than that.
        word_rows = self.session.scalar(
            select(func.count()).select_from(words.limit(tag_rows + 1).subquery())
        )
        return tag_rows < int(word_rows or 0)

    def _pairable(self, filters: MediaFilters) -> bool:
        """SQLite, a word the full-text index can look up and a tag on fewer rows than
        `_TAG_ROWS_COUNTED`: their pair's answer is bounded by the tag's rows. A tag on
        more rows is walked from its side, where matches come densely."""
        if not (filters.q and filters.tag and self._fts_usable(filters.q)):
            return False
        return len(filters.tag) > 1 and self._tag_rows(filters.tag) < _TAG_ROWS_COUNTED

    def _pair_page(
        self,
        workspace_id: str,
        filters: MediaFilters,
        limit: int,
        offset: int,
        after: After | None,
        count_up_to: int,
    ) -> tuple[list[Media], int, bool]:
        """A word with a tag on SQLite: every match's id in the sort's order from one
        index intersection (`_pair_ids`), so the exact total and the page come from the
        same list; after a cursor, the rows past it from the index again."""
        order = self._order(filters.sort)
        pairs = self._pair_ids(workspace_id, filters).order_by(*order)
        ids = list(self.session.scalars(pairs))
        if after is None:
            chosen = ids[offset : offset + limit + 1]
        else:
            chosen = list(self.session.scalars(pairs.where(_past(after)).limit(limit + 1)))
        rows = select(Media).where(Media.id.in_(chosen)).order_by(*order)
        items = self.session.scalars(rows.options(selectinload(Media.tags))).all()
        return list(items), min(len(ids), count_up_to), len(ids) <= count_up_to

    def _pair_ids(self, workspace_id: str, filters: MediaFilters) -> Select[Any]:
        """A word and a tag found together by SQLite's full-text index: the word's phrase
        AND the tag's after a field separator (a body ends with its tags, each after char
        31), so the index intersects the two (driven by the rarer) where checking the
        tag's rows one by one took 4 us each; each candidate's tag and filters are then
        checked by key. 1 M rows, a tag on 11,000 and a word in 1 of 9: 35 -> 15 ms."""
        assert filters.q and filters.tag
        pair = f"{_phrase(filters.q)} AND {_phrase(_SEPARATOR + filters.tag)}"
        candidates = text(
            "SELECT s.media_id FROM media_search_fts f JOIN media_search s ON s.id = f.rowid "
            "WHERE media_search_fts MATCH :pair"
        ).bindparams(pair=pair)
        unsearched = dataclasses.replace(filters, q=None)
        return (
            self._filtered(workspace_id, unsearched, walk=True)
            .with_only_columns(Media.id)
            .where(Media.id.in_(candidates.columns(column("media_id"))))
        )

    def _bounded_ids(
        self,
        workspace_id: str,
        filters: MediaFilters,
        *,
        walk: bool = False,
    ) -> Select[Any]:
        """The ids of the matches, from the side that stops soonest once limited: a common
        word along the rows; on SQLite, a word and a tag together from the full-text
        index (or, for a tag on 20,000 rows or more, from the narrower of the two), a
        search from its full-text index outward (each match found there, then its row
        checked), a tag from its index, each tagged row checked by its key; anything
        else, and everything on PostgreSQL (whose GIN index holds a row's tags and words
        together), along the filters."""
        if walk or self._dialect() == "postgresql":
            return self._filtered(workspace_id, filters, walk=walk).with_only_columns(Media.id)
        tag_first = True
        if filters.tag and filters.q:
            tag_first = self._tag_side_narrower(filters.q, self._tag_rows(filters.tag))
        if filters.tag and tag_first:
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
        if filters.ready_for:
            ready = MediaReadiness.platform == filters.ready_for
            mine = MediaReadiness.media_id == Media.id
            query = query.where(select(MediaReadiness.media_id).where(mine, ready).exists())
        if filters.tag:
            if self._dialect() == "postgresql":  # on the row: indexed, and checked in place
                query = query.where(_TAG_LIST.contains([filters.tag]))
            elif walk:
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
        search index of the database where one can answer: SQLite's FTS5 trigram table
        (migration 0013) for three characters or more, else a scan, and when walking (a
        common word: checking rows in order finds a page at once); PostgreSQL's body on
        the row (0023), indexed by trigrams and checked in place when walking."""
        dialect = self._dialect()
        if len(q) < _SHORTEST_SEARCH:
            return self._beginning(q, walk=walk)
        if dialect == "postgresql":
            return _in_body(q)
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
        if walk:  # checked per row through the tags' primary key
            tag_matches = func.lower(MediaTag.tag).like(pattern, escape="\\")
            mine = MediaTag.media_id == Media.id
            row_tagged = select(MediaTag.media_id).where(mine, tag_matches).exists()
            return or_(by_name, by_description, row_tagged)
        return or_(by_name, by_description, Media.id.in_(by_tag))

    def _beginning(self, q: str, *, walk: bool = False) -> ColumnElement[bool]:
        """One or two characters are too few for a trigram index, and a substring that
        short matches most rows: such a search finds names that begin with them, and that
        exact tag, each from an index (SQLite's (workspace, lower(name)) b-tree as a range;
        PostgreSQL's trigram index, which pads a name's start). When many match (`walk`),
        SQLite checks each row's name as it walks the sort's index: as a range it would
        gather every match through the name index first and sort them all. On PostgreSQL
        a row's body begins with its lowered name."""
        low = q.lower()
        name = func.lower(Media.filename)
        if self._dialect() == "postgresql":
            begins = _BODY.like(f"{_escape_like(low)}%", escape="\\")
            by_body = false() if _SEPARATOR in low else begins
            return or_(by_body, _TAG_LIST.contains([q]))
        if walk:
            by_name: ColumnElement[bool] = func.substr(name, 1, len(low)) == low
        else:
            beyond = low[:-1] + chr(ord(low[-1]) + 1)
            by_name = and_(name >= low, name < beyond)
        tagged = select(MediaTag.media_id).where(MediaTag.tag == q)
        return or_(by_name, Media.id.in_(tagged))

    @staticmethod
    def _order(sort: SortOrder) -> tuple[Any, ...]:
        if sort == "name":
            return (func.lower(Media.filename).asc(), Media.id.asc())
        if sort == "most_used":
            return (Media.usage_count.desc(), Media.created_at.desc(), Media.id.desc())
        return (Media.created_at.desc(), Media.id.desc())


def _in_body(q: str) -> ColumnElement[bool]:
    """PostgreSQL: rows whose body (filename, description, tags) holds `q`, any case. A
    `q` holding the fields' separator could only be in a description: there it is
    checked too, so no match runs from one field into the next."""
    pattern = f"%{_escape_like(q.lower())}%"
    found = _BODY.like(pattern, escape="\\")
    if _SEPARATOR not in q:
        return found
    return and_(found, func.lower(func.coalesce(Media.description, "")).like(pattern, escape="\\"))
