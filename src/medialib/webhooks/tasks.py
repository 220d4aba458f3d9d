"""Sending one webhook delivery: signed, to the vetted address, 2xx or it is retried.

Retries use the job system's back-off with jitter (`MEDIALIB_WEBHOOK_MAX_ATTEMPTS`, 15 by
default: about 18 hours of attempts); every attempt carries the same `webhook-id`. A
delivery given up on counts against its endpoint, which is disabled after
`MEDIALIB_WEBHOOK_DISABLE_AFTER` such deliveries in a row.
"""

from __future__ import annotations

import json
import time

from medialib import metrics
from medialib.db import session_scope, utcnow
from medialib.errors import MedialibError
from medialib.fetch import FetchPolicy
from medialib.jobs.names import JobName
from medialib.jobs.payloads import DeliveryJob, JobOutcome
from medialib.jobs.registry import JobContext, registry
from medialib.webhooks import signing
from medialib.webhooks.models import DeliveryStatus, WebhookAttempt
from medialib.webhooks.repository import WebhookRepository


class DeliveryFailed(Exception):
    """Not a 2xx (or no answer): the job is retried later."""


def _policy(context: JobContext) -> FetchPolicy:
    settings = context.settings
    return FetchPolicy(
        allow_http=settings.import_allow_http,
        allow_loopback=settings.allow_loopback_targets,
        connect_timeout=5.0,
        read_timeout=15.0,
        deadline_seconds=30.0,
    )


def _give_up(context: JobContext, job: DeliveryJob, error: str) -> None:
    with session_scope(context.session_factory) as session:
        repository = WebhookRepository(session)
        delivery = repository.delivery(job.delivery_id)
        if delivery is None:
            return
        delivery.status = DeliveryStatus.FAILED
        endpoint = repository.endpoint(delivery.endpoint_id)
        if endpoint is None:
            return
        endpoint.failures_in_a_row += 1
        if endpoint.failures_in_a_row >= context.settings.webhook_disable_after:
            endpoint.disabled_at = utcnow()


@registry.register(JobName.DELIVER_WEBHOOK, DeliveryJob, give_up=_give_up)
def deliver(context: JobContext, job: DeliveryJob) -> JobOutcome:
    with session_scope(context.session_factory) as session:
        repository = WebhookRepository(session)
        delivery = repository.delivery(job.delivery_id)
        endpoint = repository.endpoint(delivery.endpoint_id) if delivery else None
        if delivery is None or endpoint is None or delivery.status != DeliveryStatus.PENDING:
            return JobOutcome.SKIPPED
        if endpoint.disabled_at is not None:
            delivery.status = DeliveryStatus.FAILED
            delivery.last_error = "the endpoint is disabled"
            return JobOutcome.REFUSED
        secrets_in_use = [endpoint.secret]
        expires = endpoint.previous_secret_expires_at
        if endpoint.previous_secret and expires is not None and expires > utcnow():
            secrets_in_use.append(endpoint.previous_secret)
        url, message_id, body = endpoint.url, delivery.id, json.dumps(delivery.payload).encode()
    headers = signing.headers(secrets_in_use, message_id, int(time.time()), body)
    status, error, excerpt = None, None, None
    started = time.monotonic()
    try:
        answer = context.fetcher.post_json(url, body, headers, _policy(context))
        status, excerpt = answer.status, answer.excerpt
    except MedialibError as exc:  # refused address, no answer, time-out
        error = exc.message
    took_ms = int((time.monotonic() - started) * 1000)
    ok = status is not None and 200 <= status < 300
    metrics.WEBHOOKS.labels("delivered" if ok else "failed").inc()
    with session_scope(context.session_factory) as session:
        repository = WebhookRepository(session)
        delivery = repository.delivery(message_id)
        if delivery is None:
            return JobOutcome.SKIPPED
        delivery.attempts += 1
        delivery.last_status_code = status
        delivery.last_error = None if ok else (error or f"answered {status}")
        repository.add_attempt(
            WebhookAttempt(
                delivery_id=delivery.id,
                status_code=status,
                duration_ms=took_ms,
                error=error,
                body_excerpt=excerpt[: WebhookAttempt.MAX_EXCERPT] if excerpt else None,
            )
        )
        if ok:
            delivery.status = DeliveryStatus.SUCCEEDED
            delivery.delivered_at = utcnow()
            endpoint = repository.endpoint(delivery.endpoint_id)
            if endpoint is not None:
                endpoint.failures_in_a_row = 0
    if not ok:
        raise DeliveryFailed(error or f"the endpoint answered {status}")
    return JobOutcome.DONE
