from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from medialib.db import Base, JSONType, StrEnumType, UTCDateTime, utcnow
from medialib.jobs.payloads import JobStatus


class Job(Base):
    """A durable job: written in the same transaction as the change that needs it.

    Workers only ever see committed rows, so a job is never run before its cause is
    visible; a row left `running` by a dead process is taken again once its lease lapses.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_claim", "status", "run_after"),
        Index("ix_jobs_subject", "subject_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    queue: Mapped[str] = mapped_column(String(32))
    # The job's payload model (jobs/payloads.py) as JSON, and the id it is about.
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    subject_id: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[JobStatus] = mapped_column(StrEnumType(JobStatus, 16), default=JobStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    run_after: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(128))
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
