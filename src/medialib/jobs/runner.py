"""The embedded job runner: worker threads inside `medialib serve`.

Workers claim committed job rows, renew their lease while running, and settle each job
as done, retried with exponential back-off and jitter, or given up (the handler's
`give_up` then marks its subject failed). Jobs a killed process left `running` are taken
again when their lease lapses, so work in flight survives a crash.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import socket
import threading
import traceback
import uuid

from medialib.db import session_scope
from medialib.jobs.models import Job
from medialib.jobs.registry import JobContext, JobRegistry
from medialib.jobs.repository import JobRepository

log = logging.getLogger(__name__)


class EmbeddedRunner:
    def __init__(self, context: JobContext, registry: JobRegistry, *, threads: int) -> None:
        registry.check_complete()
        self.context = context
        self.registry = registry
        self.thread_count = threads
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._lease = dt.timedelta(seconds=context.settings.job_lease_seconds)
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._running: set[str] = set()
        self._running_lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for index in range(self.thread_count):
            self._spawn(self._work_loop, f"medialib-worker-{index}")
        if self.thread_count:
            self._spawn(self._heartbeat_loop, "medialib-heartbeat")

    def _spawn(self, target: object, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)  # type: ignore[arg-type]
        thread.start()
        self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self.wake()
        for thread in self._threads:
            thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self.thread_count == 0 or any(t.is_alive() for t in self._threads)

    def wake(self) -> None:
        with self._wake:
            self._wake.notify_all()

    def run_until_idle(self, max_jobs: int = 1000) -> int:
        """Run due jobs on the calling thread (CLI and tests); returns how many ran."""
        ran = 0
        while ran < max_jobs and self._run_one():
            ran += 1
        return ran

    def _work_loop(self) -> None:
        poll = self.context.settings.job_poll_seconds
        while not self._stop.is_set():
            try:
                if self._run_one():
                    continue
            except Exception:  # the database may be away; keep the worker alive
                log.exception("job worker error")
            with self._wake:
                self._wake.wait(poll)

    def _heartbeat_loop(self) -> None:
        while not self._stop.wait(self._lease.total_seconds() / 3):
            with self._running_lock:
                job_ids = list(self._running)
            try:
                with session_scope(self.context.session_factory) as session:
                    JobRepository(session).renew(
                        worker_id=self.worker_id, job_ids=job_ids, lease=self._lease
                    )
            except Exception:
                log.exception("job lease renewal failed")

    def _run_one(self) -> bool:
        with session_scope(self.context.session_factory) as session:
            job = JobRepository(session).claim(worker_id=self.worker_id, lease=self._lease)
            if job is None:
                return False
            session.expunge(job)
        with self._running_lock:
            self._running.add(job.id)
        try:
            self._execute(job)
        finally:
            with self._running_lock:
                self._running.discard(job.id)
        return True

    def _execute(self, job: Job) -> None:
        spec = self.registry.spec(job.name)
        try:
            spec.handle(self.context, dict(job.payload))
        except Exception as exc:
            error = "".join(traceback.format_exception_only(exc)).strip()[:2000]
            log.warning("job %s %s attempt %d failed: %s", job.name, job.id, job.attempts, error)
            self._settle_failure(job, error)
            return
        with session_scope(self.context.session_factory) as session:
            JobRepository(session).finish(job.id, worker_id=self.worker_id)

    def _settle_failure(self, job: Job, error: str) -> None:
        if job.attempts >= job.max_attempts:
            self.registry.spec(job.name).give_up(self.context, dict(job.payload), error)
            with session_scope(self.context.session_factory) as session:
                JobRepository(session).give_up(job.id, worker_id=self.worker_id, error=error)
            return
        base = self.context.settings.job_retry_base_seconds
        delay = base * 2 ** (job.attempts - 1) * random.uniform(0.8, 1.2)  # noqa: S311
        with session_scope(self.context.session_factory) as session:
            JobRepository(session).retry_later(
                job.id, worker_id=self.worker_id, error=error, delay=delay
            )
