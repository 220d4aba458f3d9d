"""Webhook routes: thin over `WebhookService`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from medialib.deps import CurrentWorkspace, SessionDep, StateDep
from medialib.route_marks import IDEMPOTENT
from medialib.schemas import Deleted, Pagination
from medialib.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from medialib.webhooks.schemas import (
    DeliveryList,
    DeliveryOut,
    EndpointIn,
    EndpointList,
    EndpointOut,
    EndpointUpdate,
)
from medialib.webhooks.service import WebhookService

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


async def webhook_service(session: SessionDep, state: StateDep) -> WebhookService:
    return WebhookService(session, settings=state.settings)


ServiceDep = Annotated[WebhookService, Depends(webhook_service)]


@router.post("", status_code=201, response_model=EndpointOut, openapi_extra=IDEMPOTENT)
def add_endpoint(
    body: EndpointIn, workspace: CurrentWorkspace, service: ServiceDep, session: SessionDep
) -> EndpointOut:
    """Send this workspace's events to a URL (public `https`, checked like imports).
    Deliveries are signed per Standard Webhooks with the `secret` returned here."""
    endpoint = service.add(workspace, body.url, body.events)
    session.commit()
    return _out(endpoint, secret=True)


@router.get("", response_model=EndpointList)
def list_endpoints(workspace: CurrentWorkspace, service: ServiceDep) -> EndpointList:
    return EndpointList(data=[_out(endpoint) for endpoint in service.all(workspace)])


@router.post("/{endpoint_id}/rotate-secret", response_model=EndpointOut)
def rotate_secret(
    endpoint_id: str, workspace: CurrentWorkspace, service: ServiceDep, session: SessionDep
) -> EndpointOut:
    """A new secret; for 24 hours deliveries carry a signature with the old one too."""
    endpoint = service.rotate(workspace, endpoint_id)
    session.commit()
    return _out(endpoint, secret=True)


@router.post("/{endpoint_id}/enable", response_model=EndpointOut)
def enable_endpoint(
    endpoint_id: str, workspace: CurrentWorkspace, service: ServiceDep, session: SessionDep
) -> EndpointOut:
    """Turn an endpoint that kept failing (and was disabled) back on."""
    endpoint = service.enable(workspace, endpoint_id)
    session.commit()
    return _out(endpoint)


@router.patch("/{endpoint_id}", response_model=EndpointOut)
def update_endpoint(
    endpoint_id: str,
    body: EndpointUpdate,
    workspace: CurrentWorkspace,
    service: ServiceDep,
    session: SessionDep,
) -> EndpointOut:
    """Change the events it gets (`events`), or pause (`enabled: false`) and resume it."""
    endpoint = service.update(workspace, endpoint_id, events=body.events, enabled=body.enabled)
    session.commit()
    return _out(endpoint)


@router.post(
    "/{endpoint_id}/deliveries/{delivery_id}/resend",
    status_code=202,
    response_model=DeliveryOut,
    openapi_extra=IDEMPOTENT,  # a retried resend sends once
)
def resend_delivery(
    endpoint_id: str,
    delivery_id: str,
    workspace: CurrentWorkspace,
    service: ServiceDep,
    session: SessionDep,
) -> DeliveryOut:
    """Send a delivery's event again, as a new delivery with its own id and attempts."""
    delivery = service.resend(workspace, endpoint_id, delivery_id)
    session.commit()
    return _delivery(delivery)


@router.get("/{endpoint_id}/deliveries", response_model=DeliveryList)
def list_deliveries(
    endpoint_id: str,
    workspace: CurrentWorkspace,
    service: ServiceDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> DeliveryList:
    """The delivery log, newest first: status, and every attempt (when, the status code,
    how long it took, the start of the answer's body)."""
    rows, total = service.deliveries(workspace, endpoint_id, limit=limit, offset=offset)
    attempts = service.attempts_of(rows)
    return DeliveryList(
        data=[_delivery(row, attempts.get(row.id, [])) for row in rows],
        pagination=Pagination(limit=limit, offset=offset, total=total),
    )


@router.delete("/{endpoint_id}", response_model=Deleted)
def remove_endpoint(
    endpoint_id: str, workspace: CurrentWorkspace, service: ServiceDep, session: SessionDep
) -> Deleted:
    service.remove(workspace, endpoint_id)
    session.commit()
    return Deleted(id=endpoint_id, deleted=True)


def _out(endpoint: WebhookEndpoint, *, secret: bool = False) -> EndpointOut:
    return EndpointOut(
        id=endpoint.id,
        url=endpoint.url,
        events=list(endpoint.events),
        enabled=endpoint.disabled_at is None,
        failures_in_a_row=endpoint.failures_in_a_row,
        created_at=endpoint.created_at,
        secret=endpoint.secret if secret else None,
    )


def _delivery(row: WebhookDelivery, attempts: list[WebhookAttempt] | None = None) -> DeliveryOut:
    return DeliveryOut.model_validate(
        {
            "id": row.id,
            "event_type": row.event_type,
            "status": row.status,
            "attempts": row.attempts,
            "last_status_code": row.last_status_code,
            "last_error": row.last_error,
            "created_at": row.created_at,
            "delivered_at": row.delivered_at,
            "payload": row.payload,
            "attempt_log": [
                {
                    "at": attempt.at,
                    "status_code": attempt.status_code,
                    "duration_ms": attempt.duration_ms,
                    "error": attempt.error,
                    "body_excerpt": attempt.body_excerpt,
                }
                for attempt in attempts or []
            ],
        }
    )
