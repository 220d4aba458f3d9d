"""Webhook endpoints of a workspace: add, list, change, pause, rotate the secret, remove,
read the delivery log and send a delivery again."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from medialib.config import Settings
from medialib.db import utcnow
from medialib.errors import InvalidState, NotFound, ValidationFailed
from medialib.fetch import FetchPolicy, check_url, vet_host
from medialib.ids import new_id
from medialib.webhooks.events import EventType
from medialib.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from medialib.webhooks.outbox import queue_delivery
from medialib.webhooks.repository import WebhookRepository
from medialib.webhooks.signing import new_secret
from medialib.workspaces.models import Workspace

ROTATED_SECRET_KEEPS = dt.timedelta(hours=24)


class WebhookService:
    def __init__(self, session: Session, *, settings: Settings) -> None:
        self.session = session
        self.settings = settings
        self.repository = WebhookRepository(session)

    def add(self, workspace: Workspace, url: str, events: list[str]) -> WebhookEndpoint:
        _check_events(events)
        self._check_target(url)
        endpoint = WebhookEndpoint(
            id=new_id("whe"),
            workspace_id=workspace.id,
            url=url,
            events=sorted(set(events)),
            secret=new_secret(),
        )
        self.repository.add(endpoint)
        return endpoint

    def get(self, workspace: Workspace, endpoint_id: str) -> WebhookEndpoint:
        endpoint = self.repository.endpoint(endpoint_id)
        if endpoint is None or endpoint.workspace_id != workspace.id:
            raise NotFound("No such webhook endpoint.")
        return endpoint

    def all(self, workspace: Workspace) -> list[WebhookEndpoint]:
        return self.repository.endpoints(workspace.id)

    def remove(self, workspace: Workspace, endpoint_id: str) -> None:
        self.repository.remove_endpoint(self.get(workspace, endpoint_id))

    def rotate(self, workspace: Workspace, endpoint_id: str) -> WebhookEndpoint:
        """A new secret; the old one still signs (a second signature) for 24 hours."""
        endpoint = self.get(workspace, endpoint_id)
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = utcnow() + ROTATED_SECRET_KEEPS
        endpoint.secret = new_secret()
        self.session.flush()
        return endpoint

    def enable(self, workspace: Workspace, endpoint_id: str) -> WebhookEndpoint:
        endpoint = self.get(workspace, endpoint_id)
        endpoint.disabled_at = None
        endpoint.failures_in_a_row = 0
        self.session.flush()
        return endpoint

    def update(
        self,
        workspace: Workspace,
        endpoint_id: str,
        *,
        events: list[str] | None = None,
        enabled: bool | None = None,
    ) -> WebhookEndpoint:
        """Change which events it gets, or pause and resume it (resuming clears the
        failure count, as `enable` does)."""
        endpoint = self.get(workspace, endpoint_id)
        if events is not None:
            _check_events(events)
            endpoint.events = sorted(set(events))
        if enabled is True:
            return self.enable(workspace, endpoint_id)
        if enabled is False and endpoint.disabled_at is None:
            endpoint.disabled_at = utcnow()
        self.session.flush()
        return endpoint

    def resend(self, workspace: Workspace, endpoint_id: str, delivery_id: str) -> WebhookDelivery:
        """The same event again, as a new delivery (its own id and attempts) to the same
        endpoint: for a receiver that was down, or fixed."""
        endpoint = self.get(workspace, endpoint_id)
        original = self.repository.delivery(delivery_id)
        if original is None or original.endpoint_id != endpoint.id:
            raise NotFound("No such delivery.")
        if endpoint.disabled_at is not None:
            raise InvalidState("The endpoint is paused; resume it first.")
        return queue_delivery(
            self.session, self.settings, endpoint, original.event_type, original.payload
        )

    def deliveries(
        self, workspace: Workspace, endpoint_id: str, *, limit: int, offset: int
    ) -> tuple[list[WebhookDelivery], int]:
        endpoint = self.get(workspace, endpoint_id)
        return self.repository.deliveries(endpoint.id, limit=limit, offset=offset)

    def attempts_of(self, deliveries: list[WebhookDelivery]) -> dict[str, list[WebhookAttempt]]:
        return self.repository.attempts_of([delivery.id for delivery in deliveries])

    def _check_target(self, url: str) -> None:
        """The same SSRF rules as imports: refused now, and again on every attempt."""
        policy = FetchPolicy(
            allow_http=self.settings.import_allow_http,
            allow_loopback=self.settings.allow_loopback_targets,
        )
        parsed = check_url(url, policy)
        assert parsed.hostname is not None
        vet_host(parsed.hostname, parsed.port or (443 if parsed.scheme == "https" else 80), policy)


def _check_events(events: list[str]) -> None:
    known = [str(event) for event in EventType]
    unknown = sorted(set(events) - set(known))
    if unknown:
        raise ValidationFailed("Unknown event type.", field="events", unknown=unknown, known=known)
