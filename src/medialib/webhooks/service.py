"""Webhook endpoints of a workspace: add, list, rotate the secret, remove, and read the
delivery log."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from medialib.config import Settings
from medialib.db import utcnow
from medialib.errors import NotFound, ValidationFailed
from medialib.fetch import FetchPolicy, check_url, vet_host
from medialib.ids import new_id
from medialib.webhooks.events import EventType
from medialib.webhooks.models import WebhookDelivery, WebhookEndpoint
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
        known = [str(event) for event in EventType]
        unknown = sorted(set(events) - set(known))
        if unknown:
            raise ValidationFailed(
                "Unknown event type.", field="events", unknown=unknown, known=known
            )
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

    def deliveries(
        self, workspace: Workspace, endpoint_id: str, *, limit: int, offset: int
    ) -> tuple[list[WebhookDelivery], int]:
        endpoint = self.get(workspace, endpoint_id)
        return self.repository.deliveries(endpoint.id, limit=limit, offset=offset)

    def _check_target(self, url: str) -> None:
        """The same SSRF rules as imports: refused now, and again on every attempt."""
        policy = FetchPolicy(
            allow_http=self.settings.import_allow_http,
            allow_loopback=self.settings.allow_loopback_targets,
        )
        parsed = check_url(url, policy)
        assert parsed.hostname is not None
        vet_host(parsed.hostname, parsed.port or (443 if parsed.scheme == "https" else 80), policy)
