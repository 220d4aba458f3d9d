"""Prometheus metrics, served at `/metrics` by every API process (and counted by workers
in theirs): requests by route and status with durations, upload bytes, jobs by queue and
outcome with durations, queue depth, scan and webhook outcomes.

The metric objects live here, at the bottom of the house, so that any layer can count
without importing the HTTP side; requests are counted by guards/edge.py and the
queue-depth collector is wired by `app.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

REQUESTS = Counter(
    "medialib_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
REQUEST_SECONDS = Histogram(
    "medialib_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
UPLOAD_BYTES = Counter("medialib_upload_bytes_total", "Bytes received for uploads", ["way"])
JOBS = Counter("medialib_jobs_total", "Job attempts by queue and outcome", ["queue", "outcome"])
JOB_SECONDS = Histogram(
    "medialib_job_duration_seconds",
    "Time a job attempt took",
    ["queue"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900),
)
SCANS = Counter("medialib_scans_total", "Virus scans by outcome", ["outcome"])
WEBHOOKS = Counter("medialib_webhook_attempts_total", "Webhook delivery attempts", ["outcome"])


class QueueDepth(Collector):
    """Jobs waiting per queue, counted when Prometheus scrapes (`count` reads the table)."""

    def __init__(self, count: Callable[[], dict[str, int]]) -> None:
        self._count = count

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "medialib_jobs_waiting", "Jobs queued and due or waiting to retry", labels=["queue"]
        )
        try:
            counts = self._count()
        except Exception:  # a scrape must not fail because the database is away
            counts = {}
        for queue, waiting in sorted(counts.items()):
            family.add_metric([queue], waiting)
        yield family


def registry_with(queue_depth: QueueDepth) -> CollectorRegistry:
    """The default registry's metrics plus this process's queue depth."""
    from prometheus_client import REGISTRY

    registry = CollectorRegistry()
    registry.register(_Forward(REGISTRY))
    registry.register(queue_depth)
    return registry


class _Forward(Collector):
    def __init__(self, source: CollectorRegistry) -> None:
        self._source = source

    def collect(self) -> Iterator[object]:  # type: ignore[override]
        yield from self._source.collect()


def count_request(method: str, route: str | None, status: int, seconds: float) -> None:
    """One answered request, under its route's template (`/v1/media/{media_id}`, never the
    id itself, so the label set stays small)."""
    route = route or "unmatched"
    REQUESTS.labels(method, route, str(status)).inc()
    REQUEST_SECONDS.labels(method, route).observe(seconds)


def serve_apart(address: str, registry: CollectorRegistry) -> Callable[[], None]:
    """Prometheus' own listener on `address` ("host:port"), apart from the API's; the
    function that stops it."""
    from prometheus_client import start_http_server

    host, _, port = address.rpartition(":")
    server, thread = start_http_server(int(port), addr=host.strip("[]"), registry=registry)

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return stop
