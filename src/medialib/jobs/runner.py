"""The embedded job runner: worker threads inside `medialib serve` (or `medialib worker`
without a broker) that poll the job table.

Each queue has threads of its own (`MEDIALIB_QUEUE_THREADS`, as in broker mode), so slow
webhook receivers can never hold the threads that make previews, nor a burst of videos
the image queue. A commit that enqueued a job wakes them at once; otherwise they look
every `job_poll_seconds`. Jobs a killed process left `running` are taken again when their
lease lapses, so work in flight survives a crash.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from collections import Counter
from collections.abc import Mapping

from medialib.jobs.executor import JobExecutor
from medialib.jobs.registry import JobContext, JobRegistry

log = logging.getLogger(__name__)


class EmbeddedRunner:
    def __init__(
        self, context: JobContext, registry: JobRegistry, *, queue_threads: Mapping[str, int]
    ) -> None:
        self.executor = JobExecutor(context, registry)
        self.context = context
        self.queue_threads = {queue: n for queue, n in queue_threads.items() if n > 0}
        self.thread_count = sum(self.queue_threads.values())
        # One per queue: a job wakes one thread of its queue, not every worker (each woken
        # thread claims in a transaction of its own; on SQLite, a write lock each).
        self._wakes = {queue: threading.Condition() for queue in self.queue_threads}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        # Jobs enqueued for later (a scheduled post): one thread wakes their queue when
        # they fall due, so they start on time rather than at the next poll.
        self._alarms: list[tuple[float, str]] = []
        self._alarm = threading.Condition()

    @property
    def worker_id(self) -> str:
        return self.executor.worker_id

    def start(self) -> None:
        for queue, count in self.queue_threads.items():
            for index in range(count):
                thread = threading.Thread(
                    target=self._work_loop,
                    args=([queue],),
                    name=f"medialib-worker-{queue}-{index}",
                    daemon=True,
                )
                thread.start()
                self._threads.append(thread)
        if self.thread_count:
            self.executor.start_heartbeat()
            threading.Thread(target=self._alarm_loop, name="medialib-alarm", daemon=True).start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self.executor.stop()
        self.wake()
        with self._alarm:
            self._alarm.notify()
        for thread in self._threads:
            thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self.thread_count == 0 or any(t.is_alive() for t in self._threads)

    def wake(self) -> None:
        """Every thread looks for work (at stop)."""
        for wake in self._wakes.values():
            with wake:
                wake.notify_all()

    def enqueued(self, jobs: list[tuple[str, str, float]]) -> None:
        """Jobs were committed, as (job id, queue, delay): wake a thread of each queue per
        job due now (a later one is found by polling once it is due)."""
        due = Counter(queue for _id, queue, delay in jobs if delay <= 0)
        later = [(time.monotonic() + delay, queue) for _id, queue, delay in jobs if delay > 0]
        if later and self._wakes:
            with self._alarm:
                for alarm in later:
                    heapq.heappush(self._alarms, alarm)
                self._alarm.notify()
        for queue, count in due.items():
            wake = self._wakes.get(queue)
            if wake is not None:
                with wake:
                    wake.notify(count)

    def _alarm_loop(self) -> None:
        while not self._stop.is_set():
            with self._alarm:
                wait = self._alarms[0][0] - time.monotonic() if self._alarms else None
                if wait is None or wait > 0:
                    self._alarm.wait(timeout=min(wait, 60.0) if wait is not None else 60.0)
                    continue
                _, queue = heapq.heappop(self._alarms)
            wake = self._wakes.get(queue)
            if wake is not None:
                with wake:
                    wake.notify()

    def run_until_idle(self, max_jobs: int = 1000) -> int:
        """Run due jobs on the calling thread (CLI and tests); returns how many ran."""
        ran = 0
        while ran < max_jobs and self._run_one():
            ran += 1
        return ran

    def _run_one(self, queues: list[str] | None = None) -> bool:
        job = self.executor.claim_next(queues)
        if job is None:
            return False
        self.executor.run(job)
        return True

    def _work_loop(self, queues: list[str]) -> None:
        poll = self.context.settings.job_poll_seconds
        while not self._stop.is_set():
            try:
                if self._run_one(queues):
                    continue
            except Exception:  # the database may be away; keep the worker alive
                log.exception("job worker error")
            wake = self._wakes[queues[0]]
            with wake:
                wake.wait(poll)
