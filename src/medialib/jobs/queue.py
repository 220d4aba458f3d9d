"""Enqueueing: a job row is written in the caller's transaction (an outbox), and runners
hear of it only after that transaction commits. Jobs carry ids, never objects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from medialib import logs
from medialib.db import utcnow
from medialib.jobs.names import JobName
from medialib.jobs.payloads import PAYLOAD_OF, JobPayload
from medialib.jobs.repository import JobRepository

_PENDING = "medialib.jobs_enqueued"

# (job id, queue, seconds until it is due) of every job a transaction enqueued, handed
# over after its commit.
Dispatch = Callable[[list[tuple[str, str, float]]], None]


def enqueue(
    session: Session,
    name: JobName,
    payload: JobPayload,
    *,
    max_attempts: int,
    run_after: dt.datetime | None = None,
) -> None:
    """Write the job row in the caller's transaction; `payload` is the job's own model.
    `run_after`: not before then (a scheduled post's moment); now when absent."""
    if type(payload) is not PAYLOAD_OF[name]:
        raise TypeError(f"{name} carries {PAYLOAD_OF[name].__name__}, not {type(payload).__name__}")
    caused_by = logs.request_id()  # the job's records carry the request that caused it
    if caused_by is not None and payload.request_id is None:
        payload = payload.model_copy(update={"request_id": caused_by})
    job = JobRepository(session).add(name, payload, max_attempts=max_attempts, run_after=run_after)
    delay = max(0.0, (job.run_after - utcnow()).total_seconds())
    session.info.setdefault(_PENDING, []).append((job.id, job.queue, delay))


def dispatch_after_commit(factory: sessionmaker[Session], dispatch: Dispatch) -> None:
    """Call `dispatch` after each commit that enqueued jobs; forget them on rollback."""

    def after_commit(session: Session) -> None:
        jobs = session.info.pop(_PENDING, None)
        if jobs:
            dispatch(jobs)

    def after_rollback(session: Session, _transaction: object) -> None:
        session.info.pop(_PENDING, None)

    event.listen(factory, "after_commit", after_commit)
    event.listen(factory, "after_soft_rollback", after_rollback)
