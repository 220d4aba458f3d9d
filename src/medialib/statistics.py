"""Keeping the SQLite planner's statistics current, from the product itself.

SQLite plans with what `ANALYZE` last recorded (`sqlite_stat1`); an embedded database
that never had one plans a word search at a million rows backwards (every row of the
workspace, the full-text match evaluated per row: seconds) where the same query with
statistics takes milliseconds. SQLite's own advice is `PRAGMA optimize` on long-lived
connections; the SQLite Python ships here (3.40) analyses only tables its connection has
queried, so medialib checks instead: when the media table has no statistics, or has grown
past twice the rows they were taken at (kept in `statistics_taken`), it runs `ANALYZE`
with `analysis_limit` (a sample of each index: milliseconds at any size).

PostgreSQL's autovacuum analyses a table once a tenth of it has changed, but only where
it runs: a server with `autovacuum = off` (seen on machines this runs on) never has
statistics, and plans a list at 20,000 rows by sorting the whole table and a common word
in seconds; nor are its trigram indexes' pending entries ever merged. medialib applies
autovacuum's own analyse rule (and vacuums with it) from its counters
(`pg_stat_user_tables`, kept whatever autovacuum's setting): where autovacuum runs it
has already done the work and this finds nothing to do.

Run at start-up and every few minutes by a thread of each process that serves or works.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

from sqlalchemy import BigInteger, Engine, String, bindparam, text
from sqlalchemy.orm import Mapped, mapped_column

from medialib.db import READ_ONLY, Base, UTCDateTime, utcnow

log = logging.getLogger(__name__)

ANALYSIS_LIMIT = 1000  # rows sampled per index
GROWTH = 2.0  # re-analyse once the media table has grown this many times


class StatisticsTaken(Base):
    """When the planner's statistics of a table were last taken, at how many rows."""

    __tablename__ = "statistics_taken"

    table_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    rows: Mapped[int] = mapped_column(BigInteger)
    taken_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


_TABLES = ("media", "media_tags")  # what lists and searches plan with
# autovacuum's defaults (autovacuum_analyze_threshold, autovacuum_analyze_scale_factor)
PG_THRESHOLD, PG_SCALE = 50, 0.1


def refresh_if_stale(engine: Engine) -> bool:
    """Analyse when the statistics are missing or were taken at far fewer rows; whether it
    did. Cheap when they are current (two index look-ups, or one catalogue read)."""
    if engine.dialect.name == "postgresql":
        return _refresh_postgresql(engine)
    if engine.dialect.name != "sqlite":
        return False
    with engine.connect().execution_options(**{READ_ONLY: True}) as connection:
        rows = connection.execute(text("SELECT max(rowid) FROM media")).scalar() or 0
        taken = connection.execute(
            text("SELECT rows FROM statistics_taken WHERE table_name = 'media'")
        ).scalar()
    if rows < 1000:
        return False  # any plan is fast on a small table
    if taken is not None and rows <= taken * GROWTH:
        return False
    with engine.begin() as connection:
        connection.exec_driver_sql(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}")
        connection.exec_driver_sql("ANALYZE")
        # The sample's own row estimate is rough: the count it was taken at is kept here.
        connection.execute(
            text(
                "INSERT INTO statistics_taken (table_name, rows, taken_at) "
                "VALUES ('media', :rows, :at) ON CONFLICT (table_name) "
                "DO UPDATE SET rows = excluded.rows, taken_at = excluded.taken_at"
            ),
            {"rows": rows, "at": utcnow()},
        )
    log.info("planner statistics refreshed", extra={"media_rows": rows})
    return True


def _refresh_postgresql(engine: Engine) -> bool:
    with engine.connect().execution_options(**{READ_ONLY: True}) as connection:
        counters = connection.execute(
            text(
                "SELECT relname, n_live_tup, n_mod_since_analyze FROM pg_stat_user_tables "
                "WHERE schemaname = current_schema() AND relname IN :tables"
            ).bindparams(bindparam("tables", expanding=True)),
            {"tables": list(_TABLES)},
        ).all()
    stale = [
        name
        for name, live, changed in counters
        if live + changed >= 1000 and changed > PG_THRESHOLD + PG_SCALE * live
    ]
    if not stale:
        return False
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        for name in stale:
            # VACUUM too, as autovacuum would: it merges the trigram indexes' pending
            # entries (GIN's fast-update list, otherwise read by every search: a rare
            # word 37 ms instead of 1 at a million rows) and marks pages all-visible.
            connection.exec_driver_sql(f'VACUUM (ANALYZE) "{name}"')
    log.info("planner statistics refreshed", extra={"tables": stale})
    return True


class Housekeeper:
    """A daemon thread that runs each task now and every `every_seconds` (the planner's
    statistics, readiness for media from before it was kept); a task that fails is logged
    and tried again next time."""

    def __init__(self, tasks: list[Callable[[], object]], *, every_seconds: float = 300.0) -> None:
        self.tasks, self.every_seconds = tasks, every_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None and self.tasks:
            self._thread = threading.Thread(target=self._run, name="housekeeping", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            for task in self.tasks:
                if self._stop.is_set():
                    return
                try:
                    task()
                except Exception:  # a busy or closing database: next time
                    log.warning("housekeeping task failed", exc_info=True)
            self._stop.wait(self.every_seconds)
