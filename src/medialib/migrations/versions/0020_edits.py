"""AI edits: a generation may start from a media (its source) with what to change

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    json_type = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    with op.batch_alter_table("generations") as batch:
        batch.add_column(sa.Column("source_media_id", sa.String(40)))
        batch.add_column(sa.Column("edit", json_type))


def downgrade() -> None:
    with op.batch_alter_table("generations") as batch:
        batch.drop_column("edit")
        batch.drop_column("source_media_id")
