"""Request and response bodies of the webhook API."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from medialib.schemas import Pagination, Strict


class EndpointIn(Strict):
    url: str = Field(min_length=1, max_length=2048)
    # Empty: every event (media.ready, media.failed, media.deleted, media.expiring,
    # media.purged).
    events: list[str] = Field(default_factory=list, max_length=10)


class EndpointUpdate(Strict):
    events: list[str] | None = Field(default=None, max_length=10)  # empty: every event
    enabled: bool | None = None  # false pauses deliveries; true resumes them


class EndpointOut(BaseModel):
    id: str
    url: str
    events: list[str]
    enabled: bool
    failures_in_a_row: int
    created_at: dt.datetime
    # Shown when the endpoint is made and when its secret is rotated; verify deliveries
    # with any Standard Webhooks library.
    secret: str | None = None


class EndpointList(BaseModel):
    data: list[EndpointOut]


class AttemptOut(BaseModel):
    at: dt.datetime
    status_code: int | None  # None: no answer (refused address, unreachable, timed out)
    duration_ms: int
    error: str | None
    body_excerpt: str | None  # the start of the answer's body, at most 1,000 characters


class DeliveryOut(BaseModel):
    id: str
    event_type: str
    status: Literal["pending", "succeeded", "failed"]
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: dt.datetime
    delivered_at: dt.datetime | None
    payload: dict[str, Any]
    attempt_log: list[AttemptOut] = []  # every attempt, oldest first


class DeliveryList(BaseModel):
    data: list[DeliveryOut]
    pagination: Pagination
