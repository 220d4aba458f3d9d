"""The Dramatiq runner on the real Redis: deliveries, retries with back-off, giving up,
time limits, and the sweep that re-sends what a dead worker or a lost message left."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy.orm import Session, sessionmaker

from medialib.config import Settings
from medialib.db import make_engine, make_session_factory, migrate, session_scope
from medialib.jobs.broker import BrokerRunner
from medialib.jobs.models import Job
from medialib.jobs.names import JobName
from medialib.jobs.payloads import PAYLOAD_OF, MediaJob
from medialib.jobs.queue import dispatch_after_commit, enqueue
from medialib.jobs.registry import JobContext, JobRegistry
from medialib.jobs.repository import JobRepository
from medialib.storage.factory import open_store
from tests.helpers import eventually


@pytest.fixture
def factory(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'jobs.db'}")
    migrate(engine)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def namespace(redis_url: str) -> Iterator[str]:
    name = f"medialib-test-{uuid.uuid4().hex[:8]}"
    yield name
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"{name}*"):
        client.delete(key)


def _runner(
    factory: sessionmaker[Session],
    tmp_path: Path,
    redis_url: str,
    namespace: str,
    handler: Callable[[JobContext, dict[str, Any]], None],
    give_up: Callable[[JobContext, dict[str, Any], str], None] | None = None,
    **overrides: Any,
) -> BrokerRunner:
    settings = Settings(
        data_dir=tmp_path,
        broker_url=redis_url,
        broker_namespace=namespace,
        job_retry_base_seconds=0.2,
        job_sweep_seconds=0.3,
        job_sweep_grace_seconds=0.5,
        **overrides,
    )
    registry = JobRegistry()
    for name in JobName:
        registry.register(name, PAYLOAD_OF[name], give_up=give_up or (lambda *_: None))(handler)
    context = JobContext(settings=settings, session_factory=factory, store=open_store(settings))
    runner = BrokerRunner(context, registry)
    dispatch_after_commit(factory, runner.dispatch)
    return runner


def _enqueue(factory: sessionmaker[Session], *, max_attempts: int = 5) -> str:
    with session_scope(factory) as session:
        enqueue(session, JobName.PROCESS_AV, MediaJob(media_id="med_x"), max_attempts=max_attempts)
    with factory() as session:
        return session.query(Job).one().id


def _job(factory: sessionmaker[Session], job_id: str) -> Job:
    with factory() as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


def _wait_for(factory: sessionmaker[Session], job_id: str, status: str, timeout: float = 20) -> Job:
    return eventually(
        lambda: _job(factory, job_id),
        lambda job: job.status == status,
        timeout=timeout,
        what=f"job {job_id} {status}",
    )


def test_delivered_job_runs_and_failed_attempts_are_resent_later(
    factory: sessionmaker[Session], tmp_path: Path, redis_url: str, namespace: str
) -> None:
    attempts: list[float] = []

    def flaky(_: JobContext, payload: MediaJob) -> None:
        attempts.append(time.monotonic())
        if len(attempts) < 3:
            raise RuntimeError("transient")

    runner = _runner(factory, tmp_path, redis_url, namespace, flaky)
    runner.start_workers()
    try:
        job = _wait_for(factory, _enqueue(factory), "done")
    finally:
        runner.stop()
    assert (job.status, job.attempts) == ("done", 3)
    # Each retry was sent with its back-off delay (≥ 0.16 s here, jitter included); the
    # growth of the delay is pinned on `run_after` in test_runner.py, since Dramatiq's
    # polling of delayed messages adds latency that would blur it here.
    assert attempts[1] - attempts[0] > 0.15 and attempts[2] - attempts[1] > 0.15


def test_job_that_keeps_failing_is_given_up_once(
    factory: sessionmaker[Session], tmp_path: Path, redis_url: str, namespace: str
) -> None:
    given_up: list[str] = []
    runner = _runner(
        factory,
        tmp_path,
        redis_url,
        namespace,
        lambda *_: (_ for _ in ()).throw(ValueError("always broken")),
        give_up=lambda _c, _p, error: given_up.append(error),
    )
    runner.start_workers()
    try:
        job = _wait_for(factory, _enqueue(factory, max_attempts=2), "failed")
    finally:
        runner.stop()
    assert job.status == "failed" and job.attempts == 2
    assert len(given_up) == 1 and "always broken" in given_up[0]


def _busy_for(seconds: float) -> None:
    """Python-level work: Dramatiq's time limit interrupts between bytecodes. (Work that
    blocks in C, like waiting on a decoder child, is bounded by the child's own time-out.)"""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.05)


def test_a_job_over_its_time_limit_is_interrupted_and_fails(
    factory: sessionmaker[Session], tmp_path: Path, redis_url: str, namespace: str
) -> None:
    given_up: list[str] = []
    runner = _runner(
        factory,
        tmp_path,
        redis_url,
        namespace,
        lambda *_: _busy_for(30),
        give_up=lambda _c, _p, error: given_up.append(error),
        job_time_limit_seconds=1.0,
    )
    runner.start_workers()
    started = time.monotonic()
    try:
        job = _wait_for(factory, _enqueue(factory, max_attempts=1), "failed", timeout=25)
    finally:
        runner.stop()
    assert job.status == "failed" and "TimeLimitExceeded" in (job.last_error or "")
    assert time.monotonic() - started < 20 and len(given_up) == 1


def test_sweep_resends_work_a_dead_worker_left(
    factory: sessionmaker[Session], tmp_path: Path, redis_url: str, namespace: str
) -> None:
    ran: list[str] = []
    runner = _runner(factory, tmp_path, redis_url, namespace, lambda _c, p: ran.append(p.media_id))
    with session_scope(factory) as session:  # written and claimed, but never published
        job = JobRepository(session).add(
            JobName.PROCESS_IMAGE, MediaJob(media_id="med_lost"), max_attempts=5
        )
        JobRepository(session).claim_id(job.id, worker_id="dead", lease=dt.timedelta(seconds=0.2))
        job_id = job.id
    runner.start_workers()
    try:
        done = _wait_for(factory, job_id, "done")
    finally:
        runner.stop()
    assert done.status == "done" and ran == ["med_lost"] and done.attempts == 2


def test_duplicate_deliveries_run_a_job_once(
    factory: sessionmaker[Session], tmp_path: Path, redis_url: str, namespace: str
) -> None:
    ran: list[str] = []
    runner = _runner(factory, tmp_path, redis_url, namespace, lambda _c, p: ran.append(p.media_id))
    job_id = _enqueue(factory)
    for _ in range(5):
        runner.send(job_id, "video")
    runner.start_workers()
    try:
        _wait_for(factory, job_id, "done")
        time.sleep(0.5)
    finally:
        runner.stop()
    assert ran == ["med_x"]
