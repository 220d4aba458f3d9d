"""Running one job row: claim it, run its handler, keep its lease alive, settle it.

Shared by both runners: the embedded one (threads polling the table) and the broker one
(Dramatiq delivers job ids). The row is the truth either way: a delivery only says
"look at this row", so duplicate or lost messages cannot run a job twice or lose it.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Collection
from typing import Any

from pydantic import ValidationError

from medialib import logs, memory, metrics
from medialib.db import session_scope
from medialib.jobs.models import Job
from medialib.jobs.payloads import JobOutcome, JobPayload
from medialib.jobs.registry import JobContext, JobRegistry, JobSpec, RunLater
from medialib.jobs.repository import JobRepository

log = logging.getLogger(__name__)


class JobExecutor:
    def __init__(self, context: JobContext, registry: JobRegistry) -> None:
        registry.check_complete()
        self.context = context
        self.registry = registry
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lease = dt.timedelta(seconds=context.settings.job_lease_seconds)
        self._running: set[str] = set()
        self._running_lock = threading.Lock()
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None
        # Called after a failed attempt is rescheduled: (job id, queue, delay in seconds).
        self.on_retry_scheduled: list[Callable[[str, str, float], None]] = []

    def start_heartbeat(self) -> None:
        self._heartbeat = threading.Thread(
            target=self._heartbeat_loop, name="medialib-heartbeat", daemon=True
        )
        self._heartbeat.start()

    def stop(self) -> None:
        self._stop.set()

    def claim_next(self, queues: Collection[str] | None = None) -> Job | None:
        # An idle worker only looks (a read, beside any writer); it takes the write lock
        # (SQLite) or row locks only when there is something to claim.
        with session_scope(self.context.reads) as session:
            if not JobRepository(session).any_claimable(queues):
                return None
        with session_scope(self.context.session_factory) as session:
            job = JobRepository(session).claim(
                worker_id=self.worker_id, lease=self.lease, queues=queues
            )
            if job is not None:
                session.expunge(job)
            return job

    def claim(self, job_id: str) -> Job | None:
        with session_scope(self.context.session_factory) as session:
            job = JobRepository(session).claim_id(
                job_id, worker_id=self.worker_id, lease=self.lease
            )
            if job is not None:
                session.expunge(job)
            return job

    def run(self, job: Job) -> None:
        """Run a claimed job and settle it: done, retried later, or given up."""
        with self._running_lock:
            self._running.add(job.id)
        try:
            self._execute(job)
        finally:
            with self._running_lock:
                self._running.discard(job.id)
            memory.give_back()  # a decoded picture's pages go back, not into an arena

    def _execute(self, job: Job) -> None:
        raw = dict(job.payload)
        fields = {"job_id": job.id, "job": job.name}
        if job.subject_id:
            fields["subject_id"] = job.subject_id
        if isinstance(raw.get("media_id"), str):
            fields["media_id"] = raw["media_id"]
        request_id = raw.get("request_id")
        with logs.context(request_id if isinstance(request_id, str) else None, **fields):
            spec = self.registry.spec(job.name)
            try:
                payload = spec.payload.model_validate(raw)
            except ValidationError as exc:  # no attempt can read it: give up at once
                self._settle_unreadable(job, f"the payload does not fit: {exc}"[:2000])
                return
            self._execute_in_context(job, spec, payload)

    def _execute_in_context(self, job: Job, spec: JobSpec[Any], payload: JobPayload) -> None:
        started = time.perf_counter()
        try:
            outcome = spec.handle(self.context, payload) or JobOutcome.DONE
        except (Exception, _interrupts()) as exc:  # a time limit interrupts as BaseException
            error = "".join(traceback.format_exception_only(exc)).strip()
            details = getattr(exc, "details", None)
            if details:  # a MedialibError's reason (the child's error, say) tells the most
                error = f"{error} {details}"
            error = error[:2000]
            log.warning("job %s %s attempt %d failed: %s", job.name, job.id, job.attempts, error)
            metrics.JOB_SECONDS.labels(job.queue).observe(time.perf_counter() - started)
            given_up = job.attempts >= job.max_attempts
            metrics.JOBS.labels(job.queue, "given_up" if given_up else "retried").inc()
            delay = exc.delay_seconds if isinstance(exc, RunLater) else None
            self._settle_failure(job, spec, payload, error, delay=delay)
            return
        seconds = time.perf_counter() - started
        metrics.JOB_SECONDS.labels(job.queue).observe(seconds)
        metrics.JOBS.labels(job.queue, "done").inc()
        log.info("job %s %s in %.0f ms", job.name, outcome, seconds * 1000)
        with session_scope(self.context.session_factory) as session:
            JobRepository(session).finish(job.id, worker_id=self.worker_id)

    def _settle_unreadable(self, job: Job, error: str) -> None:
        log.error("job %s %s given up: %s", job.name, job.id, error)
        metrics.JOBS.labels(job.queue, "given_up").inc()
        with session_scope(self.context.session_factory) as session:
            JobRepository(session).give_up(job.id, worker_id=self.worker_id, error=error)

    def _settle_failure(
        self,
        job: Job,
        spec: JobSpec[Any],
        payload: JobPayload,
        error: str,
        *,
        delay: float | None = None,
    ) -> None:
        if job.attempts >= job.max_attempts:
            spec.give_up(self.context, payload, error)
            with session_scope(self.context.session_factory) as session:
                JobRepository(session).give_up(job.id, worker_id=self.worker_id, error=error)
            return
        if delay is None:
            base = self.context.settings.job_retry_base_seconds
            delay = base * 2 ** (job.attempts - 1) * random.uniform(0.8, 1.2)  # noqa: S311
        with session_scope(self.context.session_factory) as session:
            JobRepository(session).retry_later(
                job.id, worker_id=self.worker_id, error=error, delay=delay
            )
        for callback in self.on_retry_scheduled:
            callback(job.id, job.queue, delay)

    def _heartbeat_loop(self) -> None:
        while not self._stop.wait(self.lease.total_seconds() / 3):
            with self._running_lock:
                job_ids = list(self._running)
            if not job_ids:
                continue
            try:
                with session_scope(self.context.session_factory) as session:
                    JobRepository(session).renew(
                        worker_id=self.worker_id, job_ids=job_ids, lease=self.lease
                    )
            except Exception:
                log.exception("job lease renewal failed")


def _interrupts() -> type[BaseException]:
    try:
        from dramatiq.middleware import TimeLimitExceeded
    except ImportError:  # pragma: no cover - dramatiq is a dependency
        return Exception
    exception_type: type[BaseException] = TimeLimitExceeded
    return exception_type
