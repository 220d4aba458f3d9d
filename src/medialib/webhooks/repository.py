from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from medialib.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


class WebhookRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def enabled_endpoints(self, workspace_id: str) -> list[WebhookEndpoint]:
        query = select(WebhookEndpoint).where(
            WebhookEndpoint.workspace_id == workspace_id, WebhookEndpoint.disabled_at.is_(None)
        )
        return list(self.session.scalars(query).all())

    def endpoints(self, workspace_id: str) -> list[WebhookEndpoint]:
        query = select(WebhookEndpoint).where(WebhookEndpoint.workspace_id == workspace_id)
        return list(self.session.scalars(query.order_by(WebhookEndpoint.created_at)).all())

    def endpoint(self, endpoint_id: str) -> WebhookEndpoint | None:
        return self.session.get(WebhookEndpoint, endpoint_id)

    def delivery(self, delivery_id: str) -> WebhookDelivery | None:
        return self.session.get(WebhookDelivery, delivery_id)

    def add(self, row: WebhookEndpoint | WebhookDelivery) -> None:
        self.session.add(row)
        self.session.flush()

    def add_attempt(self, attempt: WebhookAttempt) -> None:
        self.session.add(attempt)

    def attempts_of(self, delivery_ids: list[str]) -> dict[str, list[WebhookAttempt]]:
        """Each delivery's attempts, oldest first (a delivery's row goes with them)."""
        found: dict[str, list[WebhookAttempt]] = {key: [] for key in delivery_ids}
        if not delivery_ids:
            return found
        query = (
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_(delivery_ids))
            .order_by(WebhookAttempt.delivery_id, WebhookAttempt.id)
        )
        for attempt in self.session.scalars(query):
            found[attempt.delivery_id].append(attempt)
        return found

    def remove_endpoint(self, endpoint: WebhookEndpoint) -> None:
        self.session.execute(
            delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
        )
        self.session.delete(endpoint)
        self.session.flush()

    def deliveries(
        self, endpoint_id: str, *, limit: int, offset: int
    ) -> tuple[list[WebhookDelivery], int]:
        query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.scalars(
            query.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
            .limit(limit)
            .offset(offset)
        ).all()
        return list(rows), int(total)

    def disable_all(self, workspace_id: str, *, at: dt.datetime) -> None:
        self.session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.workspace_id == workspace_id)
            .values(disabled_at=at)
        )

    def remove_all(self, workspace_id: str) -> None:
        """Every endpoint of a workspace, its signing secrets and delivery log with it."""
        endpoints = select(WebhookEndpoint.id).where(WebhookEndpoint.workspace_id == workspace_id)
        self.session.execute(
            delete(WebhookDelivery).where(WebhookDelivery.endpoint_id.in_(endpoints))
        )
        self.session.execute(
            delete(WebhookEndpoint).where(WebhookEndpoint.workspace_id == workspace_id)
        )
