"""The models and the migrations describe the same schema, on both databases; pooled
PostgreSQL connections that died are replaced."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

import medialib.models  # noqa: F401  (registers every table)
from medialib.db import Base, make_engine, migrate
from tests.conftest import PG_ADMIN_DSN, own_database_url


# SQLite cannot reflect an index on an expression (lower(filename)): said, and skipped.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migrations_match_the_models(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    engine = make_engine(own_database_url(backend, request, tmp_path))
    migrate(engine)
    migrate(engine)  # a second run is a no-op
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": _modelled}
        )
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


# The search index is the database's own machinery, not a model: SQLite's FTS5 table
# and its shadow tables (migration 0013); PostgreSQL's columns on each media row, kept by
# triggers, and their GIN index (0023).
_SEARCH_MACHINERY = ("media_search", "ix_media_search", "search_body", "tag_list")


def _modelled(name: str | None, kind: str, _parent: object) -> bool:
    return not (name or "").startswith(_SEARCH_MACHINERY)


def _terminate(backend_pid: int) -> None:
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (backend_pid,))
        for _ in range(50):  # until the server has let it go
            gone = admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (backend_pid,)
            ).fetchone()
            if gone == (0,):
                return
            time.sleep(0.05)


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_postgresql_connection_that_died_while_idle_is_replaced_unseen(
    postgres_url: str,
) -> None:
    engine = make_engine(postgres_url, idle_ping_seconds=0.0)
    try:
        first = _backend_pid(engine)
        _terminate(first)  # a server restart, or an idle time-out, while it sat in the pool
        assert _backend_pid(engine) != first
    finally:
        engine.dispose()


def test_a_postgresql_connection_in_steady_use_is_not_pinged_and_a_failure_renews_the_pool(
    postgres_url: str,
) -> None:
    """Not idle long enough to be pinged: the death shows on the statement that meets it
    (the API answers 503 then), and the pool drops every connection made before it."""
    engine = make_engine(postgres_url, idle_ping_seconds=60.0)
    try:
        first = _backend_pid(engine)
        _terminate(first)
        with pytest.raises(OperationalError), engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        assert _backend_pid(engine) != first
    finally:
        engine.dispose()


def test_sqlite_connections_keep_a_bounded_cache_and_the_warm_one_is_used_next(
    tmp_path: Path,
) -> None:
    from medialib.db import READ_ONLY, SQLITE_CACHE_KIB, SQLITE_HEAP_BYTES

    engine = make_engine(f"sqlite:///{tmp_path / 'cache.db'}").execution_options(
        **{READ_ONLY: True}  # no write lock: both connections read at once
    )
    try:
        first, second = engine.connect(), engine.connect()
        ids = [id(c.connection.dbapi_connection) for c in (first, second)]
        for connection in (first, second):
            cache = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
            heap = connection.exec_driver_sql("PRAGMA soft_heap_limit").scalar_one()
            assert (cache, heap) == (-SQLITE_CACHE_KIB, SQLITE_HEAP_BYTES)
        first.close()
        second.close()  # returned last: its cache holds what was read most recently
        with engine.connect() as again:
            assert id(again.connection.dbapi_connection) == ids[1]
    finally:
        engine.dispose()
