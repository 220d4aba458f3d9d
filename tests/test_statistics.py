"""The planner's statistics are kept by medialib itself (SQLite; PostgreSQL where autovacuum
does not run): taken when a table that matters has none, taken again when it has grown
enough, left alone otherwise; and with them a word search is planned from the full-text
index, not by walking every row."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from medialib.db import make_engine, migrate
from medialib.media.models import Media
from medialib.statistics import refresh_if_stale
from medialib.workspaces.models import Workspace


def _add_media(session: Session, first: int, count: int) -> None:
    at = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    session.execute(
        insert(Media),
        [
            {
                "id": f"med{n:023d}",
                "workspace_id": "ws_stats",
                "kind": "image",
                "status": "ready",
                "filename": f"beach-{n}.jpg",
                "declared_content_type": "image/jpeg",
                "storage_key": f"ws_stats/med{n:023d}/t/original",
                "usage_count": 0,
                "media_metadata": {},
                "created_at": at + dt.timedelta(seconds=n),
                "updated_at": at,
            }
            for n in range(first, first + count)
        ],
    )
    session.commit()


def test_statistics_are_taken_when_missing_or_outgrown_and_only_then(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'stats.db'}")
    migrate(engine)
    with Session(engine) as session:
        session.add(Workspace(id="ws_stats", name="stats"))
        session.commit()
        _add_media(session, 0, 500)
        assert not refresh_if_stale(engine)  # small: any plan is fast
        _add_media(session, 500, 2000)
        assert refresh_if_stale(engine)  # none yet: taken
        assert not refresh_if_stale(engine)  # current: left alone
        _add_media(session, 2500, 1000)
        assert not refresh_if_stale(engine)  # grown, but not doubled
        _add_media(session, 3500, 2000)
        assert refresh_if_stale(engine)  # doubled: taken again
    with engine.connect() as connection:
        stat = connection.execute(text("SELECT count(*) FROM sqlite_stat1")).scalar()
        taken = connection.execute(text("SELECT rows FROM statistics_taken")).scalar()
    assert stat and taken == 5500
    engine.dispose()


def test_postgresql_statistics_are_taken_when_autovacuum_has_not(own_postgres_url: str) -> None:
    """This machine's PostgreSQL runs with autovacuum off (as some do): medialib applies
    autovacuum's rule itself. The loading connection's counters reach pg_stat_user_tables
    when it ends, so the check is polled until they have (a deadline, not a timing)."""
    engine = make_engine(own_postgres_url)
    migrate(engine)
    with Session(engine) as session:
        session.add(Workspace(id="ws_stats", name="stats"))
        session.commit()
        _add_media(session, 0, 3000)
    engine.dispose()  # its backend reports what it changed as it ends
    engine = make_engine(own_postgres_url)
    deadline = time.monotonic() + 20
    while not refresh_if_stale(engine):
        assert time.monotonic() < deadline, "the media table was never found stale"
        time.sleep(0.2)
    with engine.connect() as connection:
        analysed = connection.execute(
            text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'media'")
        ).scalar()
    assert analysed is not None
    assert not refresh_if_stale(engine)  # current: left alone
    with Session(engine) as session:
        _add_media(session, 3000, 100)  # a small change: under autovacuum's tenth
    engine.dispose()
    engine = make_engine(own_postgres_url)
    time.sleep(1.5)
    assert not refresh_if_stale(engine)
    engine.dispose()
