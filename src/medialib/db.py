"""Database engine, sessions, shared column types, and start-up migration.

SQLite (WAL) is the embedded default; PostgreSQL is the scale-out database. The same
models and Alembic migrations serve both.
"""

from __future__ import annotations

import datetime as dt
import enum
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    Engine,
    MetaData,
    String,
    create_engine,
    event,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator, TypeEngine

from medialib import clock

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> dt.datetime:
    """Now, on medialib's clock (see clock.py)."""
    return clock.utcnow()


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no time zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")


class StrEnumType(TypeDecorator[Any]):
    """A `StrEnum` kept as its value in a plain string column: rows read back as the enum,
    so `Mapped[MediaStatus]` is what the code really holds (no native database enum,
    so adding a member needs no migration)."""

    impl = String
    cache_ok = True

    def __init__(self, enum_type: type[enum.StrEnum], length: int) -> None:
        super().__init__(length)
        self.enum_type = enum_type

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else str(self.enum_type(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else self.enum_type(value)


class RecordJSON(TypeDecorator[Any]):
    """A JSON column holding typed records (pydantic models, or lists of them): validated
    when read, dumped when written, so code never handles the raw dicts. Records are
    frozen; a change is a new value assigned to the attribute, which the ORM sees."""

    impl = JSON
    cache_ok = True

    def __init__(self, record_type: Any) -> None:
        super().__init__()
        self.record_type = record_type
        self._adapter: TypeAdapter[Any] = TypeAdapter(record_type)

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(_RawJSON())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else self._adapter.dump_python(value, mode="json")

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, str | bytes):  # SQLite: the stored text, parsed and checked
            return self._adapter.validate_json(value)  # in one pass (pydantic's parser)
        return self._adapter.validate_python(value)


class _RawJSON(JSON):
    """JSON that hands its stored text over unparsed, for `RecordJSON` to parse and
    validate at once: reading a media's records was a fifth of a hot GET's time."""

    def result_processor(self, dialect: Dialect, coltype: object) -> None:
        return None


# An execution option: this connection only reads (see `make_read_session_factory`).
READ_ONLY = "medialib_read_only"
# Sized for the request threads (up to 40 or so), the job threads and a margin: a request
# never waits for a connection while a thread is free; past that it waits `POOL_TIMEOUT`.
SQLITE_POOL_SIZE = 64
# SQLite's page cache per connection (its default is 2 MiB: at a million media a search's
# lookups by key left it for the operating system's cache several times per query), and
# the most all its caches in the process may hold together: past it, SQLite reuses
# cached pages instead of taking more. Pages are taken as they are read.
SQLITE_CACHE_KIB = 64 * 1024
SQLITE_HEAP_BYTES = 128 * 1024 * 1024
POOL_TIMEOUT = 10
# A PostgreSQL connection idle this long is checked before use (see `_ping_when_idle`).
IDLE_PING_SECONDS = 5.0


def make_engine(url: str, *, idle_ping_seconds: float = IDLE_PING_SECONDS) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=SQLITE_POOL_SIZE,
            max_overflow=0,
            pool_use_lifo=True,  # the connection used last, whose cache is warm
            pool_timeout=POOL_TIMEOUT,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    engine = create_engine(url, pool_size=20, max_overflow=20, pool_timeout=POOL_TIMEOUT)
    _ping_when_idle(engine, idle_ping_seconds)
    return engine


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """A pooled connection idle for `idle_seconds` is pinged before use, and replaced if
    the server went away meanwhile (a restart, an idle time-out); raising
    `DisconnectionError` at checkout makes the pool connect afresh (SQLAlchemy's
    documented recipe). `pool_pre_ping` pings at every checkout instead: a round trip
    more on every request, a fifth of a hot read on PostgreSQL. A connection in steady
    use is not pinged; if the server goes away under load, the statements in flight
    fail (503) and the pool discards every connection made before."""

    @event.listens_for(engine, "checkin")
    def _idle_from_now(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError("the pooled connection went away while idle") from exc


def _sqlite_begin(conn: Any) -> None:
    """pysqlite's own transaction handling is off (see the pragmas): BEGIN is ours. A
    writing transaction takes the write lock at once (IMMEDIATE), so its read-then-write
    transitions are atomic and it never fails to upgrade later."""
    if not conn.get_execution_options().get(READ_ONLY):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    # A read-only one begins no transaction at all: each SELECT reads a snapshot of its own
    # (two round trips fewer), and in WAL mode it never waits for a writer, nor a writer
    # for it.


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # BEGIN is emitted by the "begin" listener
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.execute(f"PRAGMA soft_heap_limit={SQLITE_HEAP_BYTES}")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


def make_read_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for work that only reads (GET requests). They begin no transaction: each
    statement reads a snapshot of its own. On SQLite that keeps reads beside a writer
    instead of queueing for its lock; on PostgreSQL it spares two round trips (BEGIN and
    ROLLBACK) of the three a single read took."""
    options: dict[str, Any] = {READ_ONLY: True}
    if engine.dialect.name == "postgresql":
        options["isolation_level"] = "AUTOCOMMIT"
    return sessionmaker(
        bind=engine.execution_options(**options), expire_on_commit=False, autoflush=False
    )


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work for a job or CLI command: commits on success, rolls back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (run at start-up by every process)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(resources.files("medialib") / "migrations"))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Several processes may start at once; one migrates, the others wait.
            connection.execute(text("SELECT pg_advisory_xact_lock(7262021)"))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def ping(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
