"""The models and the migrations describe the same schema, on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import medialib.models  # noqa: F401  (registers every table)
from medialib.db import Base, make_engine, migrate
from tests.conftest import own_database_url


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


# The search index (migration 0013) is the database's own machinery, not a model:
# SQLite's FTS5 table and its shadow tables, PostgreSQL's trigram indexes.
_SEARCH_MACHINERY = ("media_search", "ix_media_filename_trgm", "ix_media_description_trgm")


def _modelled(name: str | None, kind: str, _parent: object) -> bool:
    return not (name or "").startswith(_SEARCH_MACHINERY) and name != "ix_media_tags_trgm"
