"""how a media is fitted to an aspect ratio, what its variants were made from, and a
post document's title

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "framing",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )
        # (source checksum, rules version, framing): variants made for another are stale.
        batch_op.add_column(sa.Column("variants_key", sa.String(length=80), nullable=True))
    with op.batch_alter_table("post_media", schema=None) as batch_op:
        batch_op.add_column(sa.Column("title", sa.String(length=400), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("post_media", schema=None) as batch_op:
        batch_op.drop_column("title")
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.drop_column("variants_key")
        batch_op.drop_column("framing")
