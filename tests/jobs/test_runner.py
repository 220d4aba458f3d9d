"""The embedded runner on real databases: retries, giving up, lease recovery, exactly-once
claiming, and jobs invisible until their transaction commits."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from medialib.config import Settings
from medialib.db import make_engine, make_session_factory, migrate, session_scope
from medialib.jobs.models import Job
from medialib.jobs.names import JobName
from medialib.jobs.payloads import PAYLOAD_OF, DeliveryJob, JobStatus, MediaJob
from medialib.jobs.queue import dispatch_after_commit, enqueue
from medialib.jobs.registry import DuplicateHandler, JobContext, JobRegistry, MissingHandlers
from medialib.jobs.repository import JobRepository
from medialib.jobs.runner import EmbeddedRunner
from medialib.storage.factory import open_store
from tests.conftest import own_database_url
from tests.helpers import eventually


@pytest.fixture(params=["sqlite", "postgresql"])
def factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(own_database_url(request.param, request, tmp_path))
    migrate(engine)
    yield make_session_factory(engine)
    engine.dispose()


def _context(factory: sessionmaker[Session], tmp_path: Path, **overrides: Any) -> JobContext:
    settings = Settings(data_dir=tmp_path, **{"job_retry_base_seconds": 0, **overrides})
    return JobContext(settings=settings, session_factory=factory, store=open_store(settings))


def _register_everywhere(registry: JobRegistry, handler: Any, give_up: Any = None) -> None:
    """The runner refuses a registry with a missing handler: cover every job name."""
    for name in JobName:
        registry.register(name, PAYLOAD_OF[name], give_up=give_up or (lambda *_: None))(handler)


def _enqueue(factory: sessionmaker[Session], count: int = 1, max_attempts: int = 5) -> list[str]:
    with session_scope(factory) as session:
        for index in range(count):
            job = MediaJob(media_id=f"med_{index}")
            enqueue(session, JobName.PROCESS_IMAGE, job, max_attempts=max_attempts)
        session.flush()
        return [job.id for job in session.query(Job).all()]


def _job(factory: sessionmaker[Session], job_id: str) -> Job:
    with factory() as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


def test_failing_job_is_retried_until_it_succeeds(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    registry = JobRegistry()
    calls: list[MediaJob] = []

    def flaky(_: JobContext, payload: MediaJob) -> None:
        calls.append(payload)
        if len(calls) < 3:
            raise RuntimeError("transient")

    _register_everywhere(registry, flaky)
    [job_id] = _enqueue(factory)
    runner = EmbeddedRunner(_context(factory, tmp_path), registry, queue_threads={})
    assert runner.run_until_idle() == 3
    job = _job(factory, job_id)
    assert (job.status, job.attempts, job.last_error) == ("done", 3, None)
    assert calls == [MediaJob(media_id="med_0")] * 3


def test_retries_back_off(factory: sessionmaker[Session], tmp_path: Path) -> None:
    registry = JobRegistry()
    _register_everywhere(registry, lambda *_: (_ for _ in ()).throw(RuntimeError("down")))
    [job_id] = _enqueue(factory)
    runner = EmbeddedRunner(
        _context(factory, tmp_path, job_retry_base_seconds=30), registry, queue_threads={}
    )
    assert runner.run_until_idle() == 1  # the retry is not due yet
    job = _job(factory, job_id)
    assert job.status == "queued" and "RuntimeError: down" in (job.last_error or "")
    delay = (job.run_after - dt.datetime.now(dt.UTC)).total_seconds()
    assert 20 < delay < 40


def test_job_that_keeps_failing_gives_up_once(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    registry = JobRegistry()
    given_up: list[tuple[MediaJob, str]] = []
    _register_everywhere(
        registry,
        lambda *_: (_ for _ in ()).throw(ValueError("broken file")),
        give_up=lambda _ctx, payload, error: given_up.append((payload, error)),
    )
    [job_id] = _enqueue(factory, max_attempts=3)
    runner = EmbeddedRunner(_context(factory, tmp_path), registry, queue_threads={})
    assert runner.run_until_idle() == 3
    assert _job(factory, job_id).status == "failed"
    assert len(given_up) == 1 and "broken file" in given_up[0][1]


def test_abandoned_running_job_is_taken_again_after_its_lease(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    [job_id] = _enqueue(factory)
    with session_scope(factory) as session:  # a worker that then dies
        claimed = JobRepository(session).claim(worker_id="dead", lease=dt.timedelta(seconds=0.3))
        assert claimed is not None and claimed.id == job_id
    registry = JobRegistry()
    ran: list[str] = []
    _register_everywhere(registry, lambda _c, p: ran.append(p.media_id))
    runner = EmbeddedRunner(_context(factory, tmp_path), registry, queue_threads={})
    assert runner.run_until_idle() == 0  # still leased
    time.sleep(0.4)
    assert runner.run_until_idle() == 1 and ran == ["med_0"]
    assert _job(factory, job_id).attempts == 2


def test_job_is_invisible_until_its_transaction_commits(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    woken = threading.Event()
    dispatch_after_commit(factory, lambda _jobs: woken.set())
    session = factory()
    enqueue(session, JobName.PROCESS_IMAGE, MediaJob(media_id="med_x"), max_attempts=1)
    session.flush()
    # On SQLite every transaction begins IMMEDIATE, so a worker cannot even start until the
    # commit; on PostgreSQL it runs concurrently and must not see the row.
    if session.get_bind().dialect.name == "postgresql":
        with session_scope(factory) as other:
            assert JobRepository(other).claim(worker_id="w", lease=dt.timedelta(seconds=5)) is None
    assert not woken.is_set()
    session.commit()
    session.close()
    assert woken.is_set()
    with session_scope(factory) as other:
        assert JobRepository(other).claim(worker_id="w", lease=dt.timedelta(seconds=5)) is not None


def test_threads_run_every_job_exactly_once(factory: sessionmaker[Session], tmp_path: Path) -> None:
    registry = JobRegistry()
    ran: list[str] = []
    lock = threading.Lock()

    def record(_: JobContext, payload: MediaJob) -> None:
        with lock:
            ran.append(payload.media_id)

    _register_everywhere(registry, record)
    _enqueue(factory, count=30)
    runners = [
        EmbeddedRunner(
            _context(factory, tmp_path, job_poll_seconds=0.05),
            registry,
            queue_threads=dict.fromkeys(("image", "video", "document", "webhook"), 3),
        )
        for _ in range(2)
    ]
    for runner in runners:
        runner.start()
    try:
        eventually(lambda: len(ran), lambda count: count >= 30, what="30 jobs run")
    finally:
        for runner in runners:
            runner.stop()
    assert sorted(ran) == sorted(f"med_{i}" for i in range(30))


def test_registry_refuses_doubles_and_reports_missing_handlers() -> None:
    registry = JobRegistry()
    with pytest.raises(MissingHandlers):
        registry.check_complete()
    registry.register(JobName.PROCESS_IMAGE, MediaJob, give_up=lambda *_: None)(lambda *_: None)
    with pytest.raises(DuplicateHandler):
        registry.register(JobName.PROCESS_IMAGE, MediaJob, give_up=lambda *_: None)(lambda *_: None)
    with pytest.raises(MissingHandlers):
        registry.check_complete()
    for name in JobName:
        if name != JobName.PROCESS_IMAGE:
            registry.register(name, PAYLOAD_OF[name], give_up=lambda *_: None)(lambda *_: None)
    registry.check_complete()


def test_a_committed_job_wakes_a_thread_of_its_queue_at_once(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """Idle threads poll only every `job_poll_seconds` (a minute here): a job committed on
    the image queue is run at once because its commit wakes an image thread — and only
    that queue's threads look (each look is a claiming transaction of its own)."""
    registry = JobRegistry()
    ran: list[str] = []
    _register_everywhere(registry, lambda _context, payload: ran.append(payload.media_id))
    runner = EmbeddedRunner(
        _context(factory, tmp_path, job_poll_seconds=60),
        registry,
        queue_threads={"image": 1, "webhook": 2},
    )
    dispatch_after_commit(factory, runner.enqueued)
    claims: list[str] = []
    claim_next = runner.executor.claim_next

    def counted(queues: list[str] | None = None) -> Any:
        claims.append(",".join(queues or []))
        return claim_next(queues)

    runner.executor.claim_next = counted  # type: ignore[method-assign]
    runner.start()
    try:
        eventually(lambda: sorted(claims), lambda seen: seen == ["image", "webhook", "webhook"])
        started = time.monotonic()
        _enqueue(factory)
        eventually(lambda: list(ran), lambda done: done == ["med_0"], what="the job run")
        assert time.monotonic() - started < 5
        time.sleep(0.3)
        assert claims.count("webhook") == 2  # the webhook threads never looked again
    finally:
        runner.stop()


def test_a_job_carries_its_own_payload_model_or_is_refused(
    factory: sessionmaker[Session],
) -> None:
    """The boundary of a job is typed: registering or enqueueing another model is a
    programming error caught at once, not a KeyError in a worker later."""
    with pytest.raises(TypeError):
        JobRegistry().register(JobName.PROCESS_IMAGE, DeliveryJob, give_up=lambda *_: None)
    with session_scope(factory) as session, pytest.raises(TypeError):
        enqueue(session, JobName.PROCESS_IMAGE, DeliveryJob(delivery_id="msg_x"), max_attempts=1)


def test_a_payload_no_attempt_can_read_is_given_up_at_once(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    registry = JobRegistry()
    ran: list[str] = []
    _register_everywhere(registry, lambda _c, p: ran.append(p.media_id))
    [job_id] = _enqueue(factory, max_attempts=5)
    with session_scope(factory) as session:  # a row written by some older or broken code
        job = session.get(Job, job_id)
        assert job is not None
        job.payload = {"media": "med_0"}
    runner = EmbeddedRunner(_context(factory, tmp_path), registry, queue_threads={})
    assert runner.run_until_idle() == 1
    job = _job(factory, job_id)
    assert job.status == JobStatus.FAILED and job.attempts == 1
    assert "payload does not fit" in (job.last_error or "")
    assert ran == []
