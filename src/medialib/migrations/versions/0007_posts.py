"""posts and the media they carry

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "posts",
        sa.Column("id", sa.String(length=40), primary_key=True),
        sa.Column(
            "workspace_id", sa.String(length=40), sa.ForeignKey("workspaces.id"), nullable=False
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "targets",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_posts_workspace_created", "posts", ["workspace_id", "created_at"])
    op.create_table(
        "post_media",
        sa.Column(
            "post_id",
            sa.String(length=40),
            sa.ForeignKey("posts.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer(), primary_key=True),
        sa.Column("media_id", sa.String(length=40), nullable=False),
        sa.Column("alt_text", sa.Text(), nullable=True),
    )
    op.create_index("ix_post_media_media_id", "post_media", ["media_id"])


def downgrade() -> None:
    op.drop_index("ix_post_media_media_id", table_name="post_media")
    op.drop_table("post_media")
    op.drop_index("ix_posts_workspace_created", table_name="posts")
    op.drop_table("posts")
