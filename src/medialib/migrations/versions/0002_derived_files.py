"""derived files: thumbnail, display rendition, thumbnail request, duplicates

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.add_column(sa.Column("thumbnail", JSON, nullable=True))
        batch_op.add_column(sa.Column("display", JSON, nullable=True))
        batch_op.add_column(sa.Column("thumbnail_request", JSON, nullable=True))
        batch_op.add_column(sa.Column("duplicate_of", sa.String(length=40), nullable=True))
        batch_op.create_index(
            "ix_media_workspace_checksum", ["workspace_id", "checksum_sha256"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.drop_index("ix_media_workspace_checksum")
        batch_op.drop_column("duplicate_of")
        batch_op.drop_column("thumbnail_request")
        batch_op.drop_column("display")
        batch_op.drop_column("thumbnail")
