"""The models and the migrations describe the same schema, on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import medialib.models  # noqa: F401  (registers every table)
from medialib.db import Base, make_engine, migrate
from tests.conftest import own_database_url


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migrations_match_the_models(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    engine = make_engine(own_database_url(backend, request, tmp_path))
    migrate(engine)
    migrate(engine)  # a second run is a no-op
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []
