"""PostgreSQL keeps what a media is found by on its own row (migration 0023): a database
that already holds media and tags when it is upgraded finds them by word and tag at
once, and the triggers keep each row in step with renames, descriptions and tag changes
made in SQL (not only through the API), in tag order."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from medialib.config import Settings
from medialib.db import make_engine, migrate
from medialib.media.schemas import MediaFilters
from medialib.media.service import MediaLibrary
from medialib.workspaces.models import Workspace


def _config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("medialib") / "migrations"))
    config.attributes["connection"] = connection
    return config


def _add(connection: Connection, media_id: str, filename: str, description: str | None) -> None:
    connection.execute(
        text(
            "INSERT INTO media (id, workspace_id, kind, status, filename, declared_content_type,"
            " storage_key, description, usage_count, metadata, created_at, updated_at) VALUES"
            " (:id, 'ws_m', 'image', 'ready', :name, 'image/jpeg', :id, :description, 0, '{}',"
            " now(), now())"
        ),
        {"id": media_id, "name": filename, "description": description},
    )


def _row(connection: Connection, media_id: str) -> tuple[list[str], str]:
    found = connection.execute(
        text("SELECT tag_list, search_body FROM media WHERE id = :id"), {"id": media_id}
    ).one()
    return list(found[0]), str(found[1])


def _found(engine: object, tmp_path: Path, **filters: str) -> list[str]:
    with Session(engine) as session:  # type: ignore[call-overload]
        library = MediaLibrary(session, settings=Settings(data_dir=tmp_path))
        page = library.search(
            Workspace(id="ws_m", name="m"), MediaFilters(**filters), limit=10, offset=0
        )
    return sorted(media.id for media in page.items)


def test_an_upgraded_database_finds_its_media_by_word_and_tag(
    own_postgres_url: str, tmp_path: Path
) -> None:
    engine = make_engine(own_postgres_url)
    with engine.begin() as connection:
        command.upgrade(_config(connection), "0022")
        connection.execute(
            text("INSERT INTO workspaces (id, name, created_at) VALUES ('ws_m', 'm', now())")
        )
        _add(connection, "med_a", "Beach-Day.JPG", "Waves at DAWN")
        _add(connection, "med_b", "office.jpg", None)
        _add(connection, "med_c", "beach-night.jpg", None)
        connection.execute(
            text(
                "INSERT INTO media_tags (media_id, tag, position) VALUES"
                " ('med_a', 'Sunset', 1), ('med_a', 'holiday', 0), ('med_b', 'beachwear', 0)"
            )
        )
    migrate(engine)
    with engine.begin() as connection:
        assert _row(connection, "med_a") == (
            ["holiday", "Sunset"],
            "beach-day.jpg\x1fwaves at dawn\x1fholiday\x1fsunset",
        )
        assert _row(connection, "med_c") == ([], "beach-night.jpg\x1f\x1f")
    assert _found(engine, tmp_path, q="beach") == ["med_a", "med_b", "med_c"]
    assert _found(engine, tmp_path, q="beach", tag="Sunset") == ["med_a"]
    assert _found(engine, tmp_path, q="dawn", tag="holiday") == ["med_a"]
    assert _found(engine, tmp_path, tag="sunset") == []  # a tag is matched exactly
    assert _found(engine, tmp_path, q="be") == ["med_a", "med_c"]  # names beginning so
    with engine.begin() as connection:  # and back: 0022's trigram indexes, no columns
        command.downgrade(_config(connection), "0022")
        indexes = connection.execute(text("SELECT indexname FROM pg_indexes")).scalars().all()
        assert "ix_media_filename_trgm" in indexes and "ix_media_search" not in indexes
    engine.dispose()


def test_the_row_follows_changes_made_in_sql(own_postgres_url: str, tmp_path: Path) -> None:
    engine = make_engine(own_postgres_url)
    migrate(engine)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO workspaces (id, name, created_at) VALUES ('ws_m', 'm', now())")
        )
        _add(connection, "med_a", "harbour.jpg", None)
        connection.execute(
            text(
                "INSERT INTO media_tags (media_id, tag, position) VALUES"
                " ('med_a', 'zeta', 0), ('med_a', 'alpha', 1)"
            )
        )
        assert _row(connection, "med_a") == (["zeta", "alpha"], "harbour.jpg\x1f\x1fzeta\x1falpha")
        connection.execute(
            text("UPDATE media SET filename = 'Lighthouse.jpg', description = 'Fog'"),
        )
        connection.execute(text("UPDATE media_tags SET position = 2 WHERE tag = 'zeta'"))
        connection.execute(text("DELETE FROM media_tags WHERE tag = 'alpha'"))
        connection.execute(text("UPDATE media_tags SET tag = 'cliffs' WHERE tag = 'zeta'"))
        assert _row(connection, "med_a") == (["cliffs"], "lighthouse.jpg\x1ffog\x1fcliffs")
    assert _found(engine, tmp_path, q="house", tag="cliffs") == ["med_a"]
    assert _found(engine, tmp_path, q="harbour") == []
    assert _found(engine, tmp_path, tag="zeta") == []
    with engine.begin() as connection:  # deleting a media takes its tags with it, cleanly
        connection.execute(text("DELETE FROM media WHERE id = 'med_a'"))
    assert _found(engine, tmp_path, q="house") == []
    engine.dispose()
