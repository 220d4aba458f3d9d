"""Media pins (posts hold their media while scheduled or publishing), job subjects, and
the key fresh variants were asked for as a column

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SUBJECT_FIELDS = ("media_id", "delivery_id", "generation_id")


def upgrade() -> None:
    op.create_table(
        "media_pins",
        sa.Column(
            "media_id",
            sa.String(40),
            sa.ForeignKey("media.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("holder_id", sa.String(40), primary_key=True),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_media_pins_holder", "media_pins", ["holder_id"])
    # Scheduled posts hold their media from now on.
    op.execute(
        "INSERT INTO media_pins (media_id, holder_id, workspace_id, created_at) "
        "SELECT DISTINCT pm.media_id, p.id, p.workspace_id, p.updated_at "
        "FROM post_media pm JOIN posts p ON p.id = pm.post_id "
        "JOIN media m ON m.id = pm.media_id WHERE p.status = 'scheduled'"
    )
    with op.batch_alter_table("media") as batch:
        batch.add_column(sa.Column("variants_requested", sa.String(80)))
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("subject_id", sa.String(40)))
    op.create_index("ix_jobs_subject", "jobs", ["subject_id", "status"])
    jobs = sa.table(
        "jobs",
        sa.column("id", sa.String),
        sa.column("payload", sa.JSON),
        sa.column("status", sa.String),
        sa.column("subject_id", sa.String),
    )
    bind = op.get_bind()
    waiting = bind.execute(
        sa.select(jobs.c.id, jobs.c.payload).where(jobs.c.status.in_(("queued", "running")))
    ).all()
    for job_id, payload in waiting:
        subject = next((payload[f] for f in _SUBJECT_FIELDS if f in (payload or {})), None)
        if subject is not None:
            bind.execute(jobs.update().where(jobs.c.id == job_id).values(subject_id=subject))


def downgrade() -> None:
    op.drop_index("ix_jobs_subject", "jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("subject_id")
    with op.batch_alter_table("media") as batch:
        batch.drop_column("variants_requested")
    op.drop_index("ix_media_pins_holder", "media_pins")
    op.drop_table("media_pins")
