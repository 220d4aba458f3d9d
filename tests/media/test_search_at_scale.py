"""The list's search and tag filter against a brute-force answer, on a few thousand rows
loaded straight into a real database: small enough for the suite, large enough that
SQLite switches from fetching matches by id to walking the sort's index (past 1,000
matches), so both ways are checked, on both databases, for every sort."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session

from medialib.config import Settings
from medialib.db import make_engine, migrate
from medialib.media import search
from medialib.media.models import Media, MediaTag
from medialib.media.schemas import MediaFilters, SortOrder
from medialib.media.service import MediaLibrary
from medialib.workspaces.models import Workspace
from tests.conftest import own_database_url

ROWS = 3_000
WORDS = ["harbour", "meadow", "summit"]


@pytest.fixture(params=["sqlite", "postgresql"])
def loaded(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, list[dict]]]:  # type: ignore[type-arg]
    engine = make_engine(own_database_url(request.param, request, tmp_path))
    migrate(engine)
    rng = random.Random(3)
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    rows, tags = [], []
    for index in range(ROWS):
        word = WORDS[0] if index % 2 else rng.choice(WORDS)  # harbour: most of them
        rows.append(
            {
                "id": f"med_{index:08d}",
                "workspace_id": "ws_a" if index % 10 else "ws_b",
                "kind": "image",
                "status": "deleted" if index % 97 == 0 else "ready",
                "filename": f"{word}-{index}.jpg",
                "declared_content_type": "image/jpeg",
                "storage_key": f"k/{index}",
                "description": "rare unicorn" if index in (7, 1501) else None,
                "usage_count": index % 5,
                "media_metadata": {},
                "created_at": start + dt.timedelta(seconds=index * 7 % ROWS),
                "updated_at": start,
            }
        )
        if index % 5:  # most have a tag, and most of those "harbour": past 1,000 matches
            tag = WORDS[0] if index % 2 == 0 else rng.choice(WORDS)
            tags.append({"media_id": f"med_{index:08d}", "tag": tag})
    with Session(engine) as session:
        session.add_all([Workspace(id="ws_a", name="a"), Workspace(id="ws_b", name="b")])
        session.flush()
        session.execute(insert(Media), rows)
        session.execute(insert(MediaTag), tags)
        session.commit()
    tagged = {t["media_id"]: t["tag"] for t in tags}
    for row in rows:
        row["tag"] = tagged.get(row["id"])
    yield engine, rows
    engine.dispose()


def _expected(rows: list[dict], sort: SortOrder, q: str | None, tag: str | None) -> list[str]:  # type: ignore[type-arg]
    def hit(row: dict) -> bool:  # type: ignore[type-arg]
        if row["workspace_id"] != "ws_a" or row["status"] == "deleted":
            return False
        if tag is not None and row["tag"] != tag:
            return False
        if q is None:
            return True
        if len(q) < 3:  # a name's beginning, or that exact tag
            return row["filename"].lower().startswith(q.lower()) or row["tag"] == q
        fields = [row["filename"], row["description"] or "", row["tag"] or ""]
        return any(q.lower() in field.lower() for field in fields)

    found = [row for row in rows if hit(row)]
    keys = {
        "recent": lambda r: (r["created_at"], r["id"]),
        "name": lambda r: (r["filename"].lower(), r["id"]),
        "most_used": lambda r: (r["usage_count"], r["created_at"], r["id"]),
    }
    found.sort(key=keys[sort], reverse=sort != "name")
    return [row["id"] for row in found]


@pytest.mark.parametrize("sort", ["recent", "name", "most_used"])
@pytest.mark.parametrize(
    ("q", "tag"),
    [
        ("harbour", None),
        ("unicorn", None),
        ("MEADOW", None),
        (None, "harbour"),
        ("mead", "summit"),
        ("harbour", "meadow"),  # a common word, a narrower tag: counted from the tag
        ("unicorn", "harbour"),  # a rare word, a common tag: counted from the word
        ("ha", "harbour"),  # a word too short for the index: names beginning with it
        ("ha", None),
    ],
)
def test_search_and_tags_match_a_brute_force_answer(
    loaded: tuple[Engine, list[dict]],  # type: ignore[type-arg]
    tmp_path: Path,
    sort: SortOrder,
    q: str | None,
    tag: str | None,
) -> None:
    engine, rows = loaded
    expected = _expected(rows, sort, q, tag)
    workspace = Workspace(id="ws_a", name="a")
    with Session(engine) as session:
        # Counted exactly here; the default bound (1,000) is checked below.
        settings = Settings(data_dir=tmp_path, list_total_exact_max=10_000)
        library = MediaLibrary(session, settings=settings)
        first = library.search(workspace, MediaFilters(q=q, tag=tag, sort=sort), limit=30, offset=0)
        assert first.total == len(expected) and first.total_exact
        assert [m.id for m in first.items] == expected[:30]
        if len(expected) > 30:  # and the next page by cursor
            second = library.search(
                workspace,
                MediaFilters(q=q, tag=tag, sort=sort),
                limit=30,
                offset=0,
                cursor=first.next_cursor,
            )
            assert [m.id for m in second.items] == expected[30:60]
            by_offset = library.search(
                workspace, MediaFilters(q=q, tag=tag, sort=sort), limit=30, offset=30
            )
            assert [m.id for m in by_offset.items] == expected[30:60]
            assert by_offset.total == len(expected)


@pytest.mark.parametrize("sort", ["recent", "name"])
@pytest.mark.parametrize(("q", "tag"), [("harbour", "meadow"), ("unicorn", "harbour")])
def test_a_word_with_a_tag_on_many_rows_is_found_from_the_narrower_side(
    loaded: tuple[Engine, list[dict]],  # type: ignore[type-arg]
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sort: SortOrder,
    q: str,
    tag: str,
) -> None:
    """A tag on more rows than SQLite's full-text pair is used for (20,000; 50 here) is
    counted from the narrower of the word and the tag instead: the same answer."""
    monkeypatch.setattr(search, "_TAG_ROWS_COUNTED", 50)
    engine, rows = loaded
    expected = _expected(rows, sort, q, tag)
    with Session(engine) as session:
        settings = Settings(data_dir=tmp_path, list_total_exact_max=10_000)
        library = MediaLibrary(session, settings=settings)
        first = library.search(
            Workspace(id="ws_a", name="a"),
            MediaFilters(q=q, tag=tag, sort=sort),
            limit=30,
            offset=0,
        )
    assert first.total == len(expected) and first.total_exact
    assert [m.id for m in first.items] == expected[:30]


@pytest.mark.parametrize(("q", "tag"), [("harbour", None), (None, "harbour"), ("unicorn", None)])
def test_past_the_default_bound_the_total_is_a_floor_and_the_page_still_right(
    loaded: tuple[Engine, list[dict]],  # type: ignore[type-arg]
    tmp_path: Path,
    q: str | None,
    tag: str | None,
) -> None:
    engine, rows = loaded
    expected = _expected(rows, "recent", q, tag)
    with Session(engine) as session:
        library = MediaLibrary(session, settings=Settings(data_dir=tmp_path))
        page = library.search(
            Workspace(id="ws_a", name="a"), MediaFilters(q=q, tag=tag), limit=30, offset=0
        )
    assert [m.id for m in page.items] == expected[:30]
    if len(expected) > 1_000:
        assert (page.total, page.total_exact) == (1_000, False)
    else:
        assert (page.total, page.total_exact) == (len(expected), True)
