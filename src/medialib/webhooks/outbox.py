"""Writing events: one delivery row per subscribed endpoint and a job to send it, in the
same transaction as the change the event describes (so an event is never lost, nor sent
for a change that was rolled back)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from medialib.config import Settings
from medialib.db import utcnow
from medialib.ids import new_id
from medialib.jobs.names import JobName
from medialib.jobs.payloads import DeliveryJob
from medialib.jobs.queue import enqueue
from medialib.webhooks.events import EventType
from medialib.webhooks.models import WebhookDelivery, WebhookEndpoint
from medialib.webhooks.repository import WebhookRepository


def emit(
    session: Session,
    settings: Settings,
    workspace_id: str,
    event_type: EventType,
    data: dict[str, Any],
) -> int:
    """Queue `event_type` for every enabled endpoint of the workspace that wants it."""
    repository = WebhookRepository(session)
    sent = 0
    for endpoint in repository.enabled_endpoints(workspace_id):
        if endpoint.events and event_type not in endpoint.events:
            continue
        payload = {"type": event_type, "timestamp": utcnow().isoformat(), "data": data}
        queue_delivery(session, settings, endpoint, event_type, payload)
        sent += 1
    return sent


def queue_delivery(
    session: Session,
    settings: Settings,
    endpoint: WebhookEndpoint,
    event_type: str,
    payload: dict[str, Any],
) -> WebhookDelivery:
    """One delivery row and the job that sends it, in the caller's transaction."""
    delivery = WebhookDelivery(
        id=new_id("msg"), endpoint_id=endpoint.id, event_type=event_type, payload=payload
    )
    WebhookRepository(session).add(delivery)
    enqueue(
        session,
        JobName.DELIVER_WEBHOOK,
        DeliveryJob(delivery_id=delivery.id),
        max_attempts=settings.webhook_max_attempts,
    )
    return delivery
