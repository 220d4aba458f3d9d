"""PostgreSQL: what a media is found by kept on its own row, under one GIN index

A word with a tag took 105-220 ms at a million rows: the word's trigram index and the
tag's b-tree live on two tables, so the database checked the tag's rows one by one
(a primary-key lookup and a correlated subquery of tags each). Each media row now
carries `tag_list` (its tags, in order) and `search_body` (its lowered filename,
description and tags, fields apart by char 31, as SQLite's media_search body), kept
in step by triggers, under one GIN index over both and the kind (btree_gin): a word,
a tag and a kind together are one index scan, a tag or a word alone a row-local check
while walking the sort's index. The three per-field trigram indexes of 0013 go:
nothing searches by them any more.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07
"""

# ruff: noqa: S608, E501  (constant DDL put together from constants: no input reaches it)

from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger(__name__)

_BODY = "lower({m}.filename || chr(31) || coalesce({m}.description, '') || chr(31) || array_to_string({m}.tag_list, chr(31)))"

_UPGRADE = [
    "ALTER TABLE media ADD COLUMN tag_list text[] NOT NULL DEFAULT '{}', "
    "ADD COLUMN search_body text NOT NULL DEFAULT ''",
    # Existing rows: their tags, then their body (one pass each; no trigger yet).
    "UPDATE media m SET tag_list = t.tags FROM (SELECT media_id, array_agg(tag ORDER BY position, tag) AS tags "
    "FROM media_tags GROUP BY media_id) t WHERE t.media_id = m.id",
    f"UPDATE media m SET search_body = {_BODY.format(m='m')}",
    f"""CREATE FUNCTION media_search_body() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.search_body := {_BODY.format(m="NEW")};
        RETURN NEW;
    END
    $$""",
    "CREATE TRIGGER media_search_body BEFORE INSERT OR UPDATE OF filename, description, tag_list "
    "ON media FOR EACH ROW EXECUTE FUNCTION media_search_body()",
    # A tag added, changed or removed: the media's list again, from its tags in order (a
    # media deleted in the same statement is simply not found).
    """CREATE FUNCTION media_tags_to_media() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            UPDATE media SET tag_list = coalesce((SELECT array_agg(tag ORDER BY position, tag)
                FROM media_tags WHERE media_id = OLD.media_id), '{}') WHERE id = OLD.media_id;
        END IF;
        IF TG_OP <> 'DELETE' THEN
            UPDATE media SET tag_list = coalesce((SELECT array_agg(tag ORDER BY position, tag)
                FROM media_tags WHERE media_id = NEW.media_id), '{}') WHERE id = NEW.media_id;
        END IF;
        RETURN NULL;
    END
    $$""",
    "CREATE TRIGGER media_tags_to_media AFTER INSERT OR UPDATE OR DELETE ON media_tags "
    "FOR EACH ROW EXECUTE FUNCTION media_tags_to_media()",
    "DROP INDEX IF EXISTS ix_media_filename_trgm",
    "DROP INDEX IF EXISTS ix_media_description_trgm",
    "DROP INDEX IF EXISTS ix_media_tags_trgm",
]


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return  # SQLite's media_search (0013) already holds the body
    for statement in _UPGRADE:
        op.execute(statement)
    columns = ["tag_list"]
    if _extension(bind, "pg_trgm"):
        columns.append("search_body gin_trgm_ops")
    else:  # 0013 could not create it either: tags still indexed, words scanned
        log.warning("pg_trgm is not available; search by word will scan")
    # The kind in the same index: a tag with a kind is then one index scan too (as two
    # indexes ANDed, PostgreSQL read the kind's whole b-tree range: 25 ms at 1 M rows).
    if _extension(bind, "btree_gin"):
        columns.append("kind")
    op.execute(f"CREATE INDEX ix_media_search ON media USING gin ({', '.join(columns)})")


def _extension(bind: sa.Connection, name: str) -> bool:
    """Whether the extension is there, made here if this role may (both are trusted
    extensions: a database's owner may)."""
    try:
        with bind.begin_nested():
            bind.execute(sa.text(f"CREATE EXTENSION IF NOT EXISTS {name}"))
    except sa.exc.DBAPIError as exc:
        log.warning("%s is not available (%s)", name, exc.orig)
        return False
    return True


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_media_search")
    op.execute("DROP TRIGGER IF EXISTS media_tags_to_media ON media_tags")
    op.execute("DROP TRIGGER IF EXISTS media_search_body ON media")
    op.execute("DROP FUNCTION IF EXISTS media_tags_to_media()")
    op.execute("DROP FUNCTION IF EXISTS media_search_body()")
    op.execute("ALTER TABLE media DROP COLUMN search_body, DROP COLUMN tag_list")
    if bind.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first():
        op.execute(
            "CREATE INDEX ix_media_filename_trgm ON media USING gin (lower(filename) gin_trgm_ops)"
        )
        op.execute(
            "CREATE INDEX ix_media_description_trgm ON media "
            "USING gin (lower(coalesce(description, '')) gin_trgm_ops)"
        )
        op.execute(
            "CREATE INDEX ix_media_tags_trgm ON media_tags USING gin (lower(tag) gin_trgm_ops)"
        )
