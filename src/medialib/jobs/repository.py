from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from medialib.db import utcnow
from medialib.ids import new_id
from medialib.jobs.models import Job
from medialib.jobs.names import QUEUE_OF, JobName
from medialib.jobs.payloads import JobPayload, JobStatus


class JobRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self,
        name: JobName,
        payload: JobPayload,
        *,
        max_attempts: int,
        run_after: dt.datetime | None = None,
    ) -> Job:
        job = Job(
            id=new_id("job"),
            name=str(name),
            queue=QUEUE_OF[name],
            payload=payload.model_dump(mode="json", exclude_none=True),
            subject_id=payload.subject_id,
            max_attempts=max_attempts,
            run_after=run_after or utcnow(),
        )
        self.session.add(job)
        self.session.flush()
        return job

    def _claimable(self, now: dt.datetime) -> Any:
        waiting = and_(Job.status == JobStatus.QUEUED, Job.run_after <= now)
        abandoned = and_(
            Job.status == JobStatus.RUNNING, Job.locked_until < now
        )  # its process died
        return or_(waiting, abandoned)

    def claim(
        self, *, worker_id: str, lease: dt.timedelta, queues: Collection[str] | None = None
    ) -> Job | None:
        """Take one due job (of `queues`, or any); a conditional UPDATE makes sure only one
        worker gets it."""
        query = select(Job.id).where(self._claimable(utcnow()))
        if queues is not None:
            query = query.where(Job.queue.in_(list(queues)))
        candidates = self.session.scalars(query.order_by(Job.run_after).limit(8)).all()
        for job_id in candidates:
            job = self.claim_id(job_id, worker_id=worker_id, lease=lease)
            if job is not None:
                return job
        return None

    def waiting_by_queue(self) -> dict[str, int]:
        query = (
            select(Job.queue, func.count())
            .where(Job.status == JobStatus.QUEUED)
            .group_by(Job.queue)
        )
        return {str(queue): int(count) for queue, count in self.session.execute(query).all()}

    def any_claimable(self, queues: Collection[str] | None = None) -> bool:
        query = select(Job.id).where(self._claimable(utcnow()))
        if queues is not None:
            query = query.where(Job.queue.in_(list(queues)))
        return self.session.scalar(query.limit(1)) is not None

    def claim_id(self, job_id: str, *, worker_id: str, lease: dt.timedelta) -> Job | None:
        """Take this job if it is due and nobody holds it (a broker delivery names it)."""
        now = utcnow()
        taken = self.session.execute(
            update(Job)
            .where(Job.id == job_id, self._claimable(now))
            .values(
                status=JobStatus.RUNNING,
                locked_by=worker_id,
                locked_until=now + lease,
                attempts=Job.attempts + 1,
                updated_at=now,
            )
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            return self.session.get(Job, job_id, populate_existing=True)
        return None

    def overdue(self, *, grace: dt.timedelta, limit: int = 500) -> list[Job]:
        """Claimable jobs nobody took within `grace`: lost deliveries, dead workers."""
        now = utcnow()
        stale_queued = and_(Job.status == JobStatus.QUEUED, Job.run_after <= now - grace)
        lapsed = and_(Job.status == JobStatus.RUNNING, Job.locked_until < now)
        query = select(Job).where(or_(stale_queued, lapsed)).order_by(Job.run_after).limit(limit)
        return list(self.session.scalars(query).all())

    def mark_redelivered(self, job_ids: list[str]) -> None:
        """Push `run_after` forward so the next sweep does not send them again at once."""
        if job_ids:
            self.session.execute(
                update(Job)
                .where(Job.id.in_(job_ids), Job.status == JobStatus.QUEUED)
                .values(run_after=utcnow())
            )

    def renew(self, *, worker_id: str, job_ids: list[str], lease: dt.timedelta) -> None:
        if job_ids:
            self.session.execute(
                update(Job)
                .where(
                    Job.id.in_(job_ids), Job.locked_by == worker_id, Job.status == JobStatus.RUNNING
                )
                .values(locked_until=utcnow() + lease)
            )

    def finish(self, job_id: str, *, worker_id: str) -> None:
        self._settle(job_id, worker_id, status=JobStatus.DONE, last_error=None)

    def retry_later(self, job_id: str, *, worker_id: str, error: str, delay: float) -> None:
        self._settle(
            job_id,
            worker_id,
            status=JobStatus.QUEUED,
            last_error=error,
            run_after=utcnow() + dt.timedelta(seconds=delay),
        )

    def give_up(self, job_id: str, *, worker_id: str, error: str) -> None:
        self._settle(job_id, worker_id, status=JobStatus.FAILED, last_error=error)

    def _settle(self, job_id: str, worker_id: str, **values: Any) -> None:
        self.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.locked_by == worker_id)
            .values(locked_by=None, locked_until=None, updated_at=utcnow(), **values)
        )

    def waiting_for(self, name: JobName, subject_id: str) -> bool:
        """Whether a job of `name` about `subject_id` is queued and not yet started (one
        that runs may have read its subject before the change that is asking)."""
        query = select(Job.id).where(
            Job.subject_id == subject_id, Job.name == str(name), Job.status == JobStatus.QUEUED
        )
        return self.session.scalar(query.limit(1)) is not None

    def cancel_waiting(self, name: JobName, subject_id: str) -> None:
        """Settle the queued jobs of `name` about `subject_id` as done without running
        them (superseded: a post moved or unscheduled)."""
        self.session.execute(
            update(Job)
            .where(
                Job.subject_id == subject_id,
                Job.name == str(name),
                Job.status == JobStatus.QUEUED,
            )
            .values(status=JobStatus.DONE, last_error="superseded", updated_at=utcnow())
        )

    def get(self, job_id: str) -> Job | None:
        return self.session.get(Job, job_id)
