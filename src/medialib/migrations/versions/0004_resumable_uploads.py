"""resumable (tus) uploads, and a storage quota per workspace

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "resumable_uploads",
        sa.Column("id", sa.String(length=40), primary_key=True),
        sa.Column(
            "workspace_id", sa.String(length=40), sa.ForeignKey("workspaces.id"), nullable=False
        ),
        sa.Column("media_id", sa.String(length=40), nullable=False),
        sa.Column("length", sa.BigInteger(), nullable=False),
        sa.Column("upload_metadata", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_resumable_uploads_expires", "resumable_uploads", ["expires_at"])
    op.create_index("ix_resumable_uploads_media_id", "resumable_uploads", ["media_id"])
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quota_bytes", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.drop_column("quota_bytes")
    op.drop_index("ix_resumable_uploads_media_id", table_name="resumable_uploads")
    op.drop_index("ix_resumable_uploads_expires", table_name="resumable_uploads")
    op.drop_table("resumable_uploads")
