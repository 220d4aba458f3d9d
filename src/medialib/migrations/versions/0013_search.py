"""search that does not scan: SQLite FTS5 (trigram) over filename, description and tags,
kept in step by triggers; PostgreSQL trigram (pg_trgm) indexes for the same LIKE search

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29
"""

# ruff: noqa: S608, E501  (constant DDL put together from constants: no input reaches it)

from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger(__name__)

# What a media is found by, fields apart (char 31, the unit separator, never in a query).
_BODY = (
    "{m}.filename || char(31) || coalesce({m}.description, '') || char(31) || "
    "coalesce((SELECT group_concat(tag, char(31)) FROM media_tags t WHERE t.media_id = {m}.id), '')"
)

_SQLITE = [
    # A plain table with a stable integer key (a media's own rowid may change on VACUUM),
    # and the FTS5 index over it as external content.
    """CREATE TABLE media_search (
        id INTEGER PRIMARY KEY,
        media_id VARCHAR(40) NOT NULL UNIQUE,
        body TEXT NOT NULL
    )""",
    """CREATE VIRTUAL TABLE media_search_fts USING fts5(
        body, content='media_search', content_rowid='id', tokenize='trigram'
    )""",
    """CREATE TRIGGER media_search_ai AFTER INSERT ON media_search BEGIN
        INSERT INTO media_search_fts(rowid, body) VALUES (new.id, new.body);
    END""",
    """CREATE TRIGGER media_search_ad AFTER DELETE ON media_search BEGIN
        INSERT INTO media_search_fts(media_search_fts, rowid, body)
        VALUES ('delete', old.id, old.body);
    END""",
    """CREATE TRIGGER media_search_au AFTER UPDATE OF body ON media_search BEGIN
        INSERT INTO media_search_fts(media_search_fts, rowid, body)
        VALUES ('delete', old.id, old.body);
        INSERT INTO media_search_fts(rowid, body) VALUES (new.id, new.body);
    END""",
    f"""CREATE TRIGGER media_ai_search AFTER INSERT ON media BEGIN
        INSERT INTO media_search(media_id, body) VALUES (new.id, {_BODY.format(m="new")});
    END""",
    f"""CREATE TRIGGER media_au_search AFTER UPDATE OF filename, description ON media BEGIN
        UPDATE media_search SET body = {_BODY.format(m="new")} WHERE media_id = new.id;
    END""",
    """CREATE TRIGGER media_ad_search AFTER DELETE ON media BEGIN
        DELETE FROM media_search WHERE media_id = old.id;
    END""",
    f"""CREATE TRIGGER media_tags_ai_search AFTER INSERT ON media_tags BEGIN
        UPDATE media_search
        SET body = coalesce((SELECT {_BODY.format(m="m")} FROM media m WHERE m.id = new.media_id), body)
        WHERE media_id = new.media_id;
    END""",
    f"""CREATE TRIGGER media_tags_ad_search AFTER DELETE ON media_tags BEGIN
        UPDATE media_search
        SET body = coalesce((SELECT {_BODY.format(m="m")} FROM media m WHERE m.id = old.media_id), body)
        WHERE media_id = old.media_id;
    END""",
    f"INSERT INTO media_search(media_id, body) SELECT m.id, {_BODY.format(m='m')} FROM media m",
]

_POSTGRES = [
    "CREATE INDEX ix_media_filename_trgm ON media USING gin (lower(filename) gin_trgm_ops)",
    "CREATE INDEX ix_media_description_trgm ON media "
    "USING gin (lower(coalesce(description, '')) gin_trgm_ops)",
    "CREATE INDEX ix_media_tags_trgm ON media_tags USING gin (lower(tag) gin_trgm_ops)",
]


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in _SQLITE:
            op.execute(statement)
        return
    if bind.dialect.name != "postgresql":
        return
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError as exc:  # a role without the right: search works, by scanning
        log.warning("pg_trgm is not available (%s); search will scan", exc.orig)
        return
    for statement in _POSTGRES:
        op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for trigger in (
            "media_tags_ad_search",
            "media_tags_ai_search",
            "media_ad_search",
            "media_au_search",
            "media_ai_search",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS media_search_fts")
        op.execute("DROP TABLE IF EXISTS media_search")
    elif bind.dialect.name == "postgresql":
        for index in ("ix_media_tags_trgm", "ix_media_description_trgm", "ix_media_filename_trgm"):
            op.execute(f"DROP INDEX IF EXISTS {index}")
