"""Enqueueing: a job row is written in the caller's transaction (an outbox), and runners
are woken only after that transaction commits. Jobs carry ids, never objects.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from medialib.jobs.names import JobName
from medialib.jobs.repository import JobRepository

_PENDING_FLAG = "medialib.jobs_enqueued"


def enqueue(session: Session, name: JobName, *, max_attempts: int, **ids: str) -> None:
    JobRepository(session).add(name, dict(ids), max_attempts=max_attempts)
    session.info[_PENDING_FLAG] = True


def wake_after_commit(factory: sessionmaker[Session], wake: Callable[[], None]) -> None:
    """Call `wake` after each commit that enqueued a job."""

    def after_commit(session: Session) -> None:
        if session.info.pop(_PENDING_FLAG, False):
            wake()

    def after_rollback(session: Session) -> None:
        session.info.pop(_PENDING_FLAG, None)

    event.listen(factory, "after_commit", after_commit)
    event.listen(factory, "after_soft_rollback", lambda s, _t: after_rollback(s))
