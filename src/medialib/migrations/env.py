"""Alembic environment: migrations run on the connection `medialib.db.migrate` hands in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import medialib.models  # noqa: F401  (registers every table on Base.metadata)
from medialib.db import Base

target_metadata = Base.metadata


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:  # `alembic revision --autogenerate` from a developer's shell
        url = context.config.get_main_option("sqlalchemy.url") or "sqlite://"
        with create_engine(url).connect() as own_connection:
            _run_on(own_connection)
        return
    _run_on(connection)


def _run_on(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite needs table rebuilds for most ALTERs
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
