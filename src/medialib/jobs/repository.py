from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from medialib.db import utcnow
from medialib.ids import new_id
from medialib.jobs.models import Job
from medialib.jobs.names import QUEUE_OF, JobName


class JobRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, name: JobName, payload: dict[str, Any], *, max_attempts: int) -> Job:
        job = Job(
            id=new_id("job"),
            name=str(name),
            queue=QUEUE_OF[name],
            payload=payload,
            max_attempts=max_attempts,
            run_after=utcnow(),
        )
        self.session.add(job)
        self.session.flush()
        return job

    def _claimable(self, now: dt.datetime) -> Any:
        waiting = and_(Job.status == "queued", Job.run_after <= now)
        abandoned = and_(Job.status == "running", Job.locked_until < now)  # its process died
        return or_(waiting, abandoned)

    def claim(self, *, worker_id: str, lease: dt.timedelta) -> Job | None:
        """Take one due job; a conditional UPDATE makes sure only one worker gets it."""
        now = utcnow()
        candidates = self.session.scalars(
            select(Job.id).where(self._claimable(now)).order_by(Job.run_after).limit(8)
        ).all()
        for job_id in candidates:
            taken = self.session.execute(
                update(Job)
                .where(Job.id == job_id, self._claimable(now))
                .values(
                    status="running",
                    locked_by=worker_id,
                    locked_until=now + lease,
                    attempts=Job.attempts + 1,
                    updated_at=now,
                )
            )
            if taken.rowcount == 1:  # type: ignore[attr-defined]
                return self.session.get(Job, job_id, populate_existing=True)
        return None

    def renew(self, *, worker_id: str, job_ids: list[str], lease: dt.timedelta) -> None:
        if job_ids:
            self.session.execute(
                update(Job)
                .where(Job.id.in_(job_ids), Job.locked_by == worker_id, Job.status == "running")
                .values(locked_until=utcnow() + lease)
            )

    def finish(self, job_id: str, *, worker_id: str) -> None:
        self._settle(job_id, worker_id, status="done", last_error=None)

    def retry_later(self, job_id: str, *, worker_id: str, error: str, delay: float) -> None:
        self._settle(
            job_id,
            worker_id,
            status="queued",
            last_error=error,
            run_after=utcnow() + dt.timedelta(seconds=delay),
        )

    def give_up(self, job_id: str, *, worker_id: str, error: str) -> None:
        self._settle(job_id, worker_id, status="failed", last_error=error)

    def _settle(self, job_id: str, worker_id: str, **values: Any) -> None:
        self.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.locked_by == worker_id)
            .values(locked_by=None, locked_until=None, updated_at=utcnow(), **values)
        )

    def get(self, job_id: str) -> Job | None:
        return self.session.get(Job, job_id)

    def pending_count(self) -> int:
        pending = select(func.count()).where(Job.status.in_(["queued", "running"]))
        return self.session.scalar(pending) or 0
