"""trash: remember the status a media had when it was deleted

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status_before_delete", sa.String(length=20), nullable=True))
        batch_op.create_index("ix_media_workspace_deleted", ["workspace_id", "deleted_at"])


def downgrade() -> None:
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.drop_index("ix_media_workspace_deleted")
        batch_op.drop_column("status_before_delete")
