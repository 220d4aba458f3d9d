"""Which networks each media can go out to now: a column to show, rows to filter by

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    json_type = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    with op.batch_alter_table("media") as batch:
        batch.add_column(sa.Column("ready_for", json_type))
    op.create_table(
        "media_readiness",
        sa.Column(
            "media_id",
            sa.String(40),
            sa.ForeignKey("media.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("platform", sa.String(32), primary_key=True),
    )
    op.create_index("ix_media_readiness_platform", "media_readiness", ["platform", "media_id"])


def downgrade() -> None:
    op.drop_index("ix_media_readiness_platform", table_name="media_readiness")
    op.drop_table("media_readiness")
    with op.batch_alter_table("media") as batch:
        batch.drop_column("ready_for")
