"""Publishing: a row per post target (its progress), network accounts, post languages

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from medialib.ids import new_id

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    json_type = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("workspace_id", sa.String(40), sa.ForeignKey("workspaces.id"), nullable=False),
        sa.Column("network", sa.String(40), nullable=False),
        sa.Column("connector", sa.String(16), nullable=False),
        sa.Column("handle", sa.String(300), nullable=False),
        sa.Column("service_url", sa.String(2000)),
        sa.Column("remote_id", sa.String(300)),
        sa.Column("credentials", sa.LargeBinary()),
        sa.Column("session", sa.LargeBinary()),
        sa.Column("checked_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_accounts_workspace", "accounts", ["workspace_id", "created_at"])
    op.create_table(
        "post_targets",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "post_id", sa.String(40), sa.ForeignKey("posts.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(40), nullable=False),
        sa.Column("account_id", sa.String(40)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("idempotency_key", sa.String(80)),
        sa.Column("remote_id", sa.String(400)),
        sa.Column("remote_url", sa.String(2000)),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("error", json_type),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_post_targets_post", "post_targets", ["post_id", "position"])
    op.add_column("posts", sa.Column("langs", json_type))
    op.add_column("posts", sa.Column("published_at", sa.DateTime(timezone=True)))
    # Each post's targets, from the JSON column they were kept in, become rows.
    bind = op.get_bind()
    posts = bind.execute(sa.text("SELECT id, targets, updated_at FROM posts")).all()
    targets = sa.table(
        "post_targets",
        sa.column("id", sa.String),
        sa.column("post_id", sa.String),
        sa.column("position", sa.Integer),
        sa.column("platform", sa.String),
        sa.column("account_id", sa.String),
        sa.column("status", sa.String),
        sa.column("attempts", sa.Integer),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    for post_id, raw, updated_at in posts:
        listed = json.loads(raw) if isinstance(raw, str) else (raw or [])
        for position, target in enumerate(listed):
            bind.execute(
                targets.insert().values(
                    id=new_id("tgt"),
                    post_id=post_id,
                    position=position,
                    platform=target.get("platform", ""),
                    account_id=target.get("account_id"),
                    status="pending",
                    attempts=0,
                    updated_at=updated_at or dt.datetime.now(dt.UTC),
                )
            )
    # Plain DROP COLUMN (SQLite 3.35+ and PostgreSQL): a batch rebuild of `posts` would
    # drop the table, and with foreign keys on, cascade to its media and targets.
    op.execute("ALTER TABLE posts DROP COLUMN targets")


def downgrade() -> None:
    json_type = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    with op.batch_alter_table("posts") as batch:
        batch.add_column(sa.Column("targets", json_type))
        batch.drop_column("published_at")
        batch.drop_column("langs")
    op.drop_index("ix_post_targets_post", "post_targets")
    op.drop_table("post_targets")
    op.drop_index("ix_accounts_workspace", "accounts")
    op.drop_table("accounts")
