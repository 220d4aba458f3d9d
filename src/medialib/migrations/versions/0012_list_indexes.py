"""indexes for every filter and sort of the media list

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_media_workspace_kind_created", "media", ["workspace_id", "kind", "created_at", "id"]
    )
    op.create_index(
        "ix_media_workspace_used", "media", ["workspace_id", "usage_count", "created_at", "id"]
    )
    op.create_index(
        "ix_media_workspace_name", "media", ["workspace_id", sa.text("lower(filename)"), "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_media_workspace_name", table_name="media")
    op.drop_index("ix_media_workspace_used", table_name="media")
    op.drop_index("ix_media_workspace_kind_created", table_name="media")
