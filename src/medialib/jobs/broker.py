"""The broker-backed runner: Dramatiq on Redis or RabbitMQ delivers job ids to
`medialib worker` processes on any number of machines.

Each queue (image, video, document) has its own Dramatiq worker with its own thread
count, and every delivery runs under a time limit. Dramatiq never retries by itself
(`max_retries=0`): the job row keeps attempts and back-off, and a failed attempt is
re-sent with a delay. A sweep re-sends rows nobody took in time (a lost message, a
worker killed mid-job whose lease lapsed), so the table, not Redis, is the truth.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Any

from medialib.db import session_scope
from medialib.jobs.executor import JobExecutor
from medialib.jobs.names import Queue
from medialib.jobs.registry import JobContext, JobRegistry
from medialib.jobs.repository import JobRepository

log = logging.getLogger(__name__)


class _OneWorkerPerQueueIsIntended(logging.Filter):
    """One Dramatiq Worker per queue (each with its own thread count) means one worker
    middleware per Worker on the shared broker; each Worker's queue whitelist keeps it to
    its own queue, so Dramatiq's warning about a repeated middleware does not apply."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "middleware of the same type twice" not in record.getMessage()


def make_broker(url: str, namespace: str) -> Any:
    if url.startswith(("redis://", "rediss://", "unix://")):
        from dramatiq.brokers.redis import RedisBroker

        logging.getLogger("dramatiq.broker.RedisBroker").addFilter(_OneWorkerPerQueueIsIntended())
        return RedisBroker(url=url, namespace=namespace)  # type: ignore[no-untyped-call]
    if url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        logging.getLogger("dramatiq.broker.RabbitmqBroker").addFilter(
            _OneWorkerPerQueueIsIntended()
        )
        return RabbitmqBroker(url=url)
    scheme = url.split(":", 1)[0]
    raise ValueError(f"MEDIALIB_BROKER_URL must be a redis:// or amqp:// URL (got {scheme}://)")


def queue_name(namespace: str, queue: str) -> str:
    """The broker queue of a job queue; the namespace keeps deployments (and tests) that
    share a RabbitMQ virtual host apart (Redis keys are namespaced as well)."""
    return f"{namespace}-{queue}"


class BrokerRunner:
    def __init__(self, context: JobContext, registry: JobRegistry) -> None:
        import dramatiq

        settings = context.settings
        assert settings.broker_url is not None
        self.context = context
        self.executor = JobExecutor(context, registry)
        self.broker = make_broker(settings.broker_url, settings.broker_namespace)
        time_limit_ms = int(settings.job_time_limit_seconds * 1000)
        self.actors = {
            queue: dramatiq.actor(
                actor_name=f"medialib_{queue}",
                queue_name=queue_name(settings.broker_namespace, queue),
                broker=self.broker,
                max_retries=0,
                time_limit=time_limit_ms,
            )(self._deliver)
            for queue in Queue
        }
        self.executor.on_retry_scheduled.append(self._send_later)
        self._workers: list[Any] = []
        self._stop = threading.Event()
        self._sweeper: threading.Thread | None = None

    @property
    def worker_id(self) -> str:
        return self.executor.worker_id

    # --- publishing (API processes and workers) ---------------------------------------

    def dispatch(self, jobs: list[tuple[str, str, float]]) -> None:
        for job_id, queue, delay in jobs:
            self.send(job_id, queue, delay_seconds=delay)

    def send(self, job_id: str, queue: str, *, delay_seconds: float = 0) -> None:
        delay = int(delay_seconds * 1000) or None
        try:
            self.actors[Queue(queue)].send_with_options(args=(job_id,), delay=delay)
        except Exception:  # the row is committed: the sweep sends it once the broker is back
            log.exception("could not publish job %s; the sweep will retry", job_id)

    def _send_later(self, job_id: str, queue: str, delay_seconds: float) -> None:
        self.send(job_id, queue, delay_seconds=delay_seconds)

    def ping(self) -> None:
        client = getattr(self.broker, "client", None)  # Redis
        if client is not None:
            client.ping()
            return
        import pika  # RabbitMQ: a fresh connection, closed at once

        pika.BlockingConnection(pika.URLParameters(self.context.settings.broker_url)).close()

    # --- consuming (`medialib worker`) --------------------------------------------------

    def _deliver(self, job_id: str) -> None:
        job = self.executor.claim(job_id)
        if job is not None:  # None: done already, held by another worker, or not due yet
            self.executor.run(job)

    def start_workers(self) -> None:
        import dramatiq

        # Dramatiq's own CLI announces the boot; middleware such as TimeLimit (which starts
        # its deadline monitor then) relies on it, so a process embedding workers must too.
        self.broker.emit_after("process_boot")
        for queue, threads in self.context.settings.all_queue_threads.items():
            if threads > 0:
                worker = dramatiq.Worker(
                    self.broker,
                    queues={queue_name(self.context.settings.broker_namespace, queue)},
                    worker_threads=threads,
                )
                worker.start()
                self._workers.append(worker)
        self.executor.start_heartbeat()
        self._sweeper = threading.Thread(
            target=self._sweep_loop, name="medialib-sweep", daemon=True
        )
        self._sweeper.start()

    def stop(self) -> None:
        self._stop.set()
        self.executor.stop()
        self.broker.emit_before("process_stop")
        for worker in self._workers:
            worker.stop()
        self.broker.emit_after("process_stop")
        self.broker.close()

    def sweep(self) -> int:
        """Re-send jobs that nobody took within the grace period; returns how many."""
        grace = dt.timedelta(seconds=self.context.settings.job_sweep_grace_seconds)
        with session_scope(self.context.session_factory) as session:
            repository = JobRepository(session)
            overdue = [(job.id, job.queue, 0.0) for job in repository.overdue(grace=grace)]
            repository.mark_redelivered([job_id for job_id, _, _ in overdue])
        self.dispatch(overdue)
        return len(overdue)

    def _sweep_loop(self) -> None:
        while not self._stop.wait(self.context.settings.job_sweep_seconds):
            try:
                if swept := self.sweep():
                    log.info("re-sent %d overdue jobs", swept)
            except Exception:
                log.exception("job sweep failed")
