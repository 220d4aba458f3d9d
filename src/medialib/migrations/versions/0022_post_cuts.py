"""Files cut for one target of a post (a carousel item at the first item's ratio)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    json_type = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    op.create_table(
        "post_cuts",
        sa.Column(
            "target_id",
            sa.String(40),
            sa.ForeignKey("post_targets.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("media_id", sa.String(40), primary_key=True),
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("checksum_sha256", sa.String(64), nullable=False),
        sa.Column("crop", json_type),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_post_cuts_media_id", "post_cuts", ["media_id"])


def downgrade() -> None:
    op.drop_index("ix_post_cuts_media_id", table_name="post_cuts")
    op.drop_table("post_cuts")
