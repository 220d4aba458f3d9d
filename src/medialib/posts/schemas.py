from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from medialib.schemas import Pagination, ReasonOut, Strict


def _require_timezone(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("scheduled_at needs a time zone (RFC 3339, e.g. …Z)")
    return value


class TargetIn(Strict):
    platform: str = Field(min_length=1, max_length=40)
    account_id: str | None = Field(default=None, max_length=200)


class PostMediaIn(Strict):
    media_id: str = Field(min_length=1, max_length=40)
    # Absent: the media's description stands in.
    alt_text: str | None = Field(default=None, max_length=10_000)
    title: str | None = Field(default=None, max_length=400)  # a document's title


class PostCreate(Strict):
    text: str = Field(default="", max_length=100_000)
    targets: list[TargetIn] = Field(min_length=1, max_length=20)
    media: list[PostMediaIn] = Field(default_factory=list, max_length=50)
    # Absent: a draft. Present: scheduled, once every target's rules are met.
    scheduled_at: dt.datetime | None = None

    _aware = field_validator("scheduled_at")(_require_timezone)


class ScheduleRequest(Strict):
    scheduled_at: dt.datetime

    _aware = field_validator("scheduled_at")(_require_timezone)


class TargetOut(BaseModel):
    platform: str
    account_id: str | None = None


class PostMediaOut(BaseModel):
    media_id: str
    alt_text: str | None = None
    title: str | None = None


class PostOut(BaseModel):
    id: str
    text: str
    status: Literal["draft", "scheduled"]
    targets: list[TargetOut]
    media: list[PostMediaOut]
    scheduled_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class PostList(BaseModel):
    data: list[PostOut]
    pagination: Pagination


class PlannedMedia(BaseModel):
    media_id: str
    # What would be sent: the original, this network's variant, or nothing (see reasons).
    send: Literal["original", "variant"] | None
    url: str | None = None
    content_type: str | None = None
    width: int | None = None
    height: int | None = None
    size: int | None = None
    # A variant cut to an aspect ratio: the part of the upright original it shows.
    crop: dict[str, int] | None = None
    reasons: list[ReasonOut] = Field(default_factory=list)
    # Whether its reasons keep the post from being scheduled (else they are notes).
    blocking: bool = False


class PlannedTarget(BaseModel):
    platform: str
    account_id: str | None = None
    # The network's post form the post takes (feed, carousel, reel ...), or the one it
    # comes closest to when it takes none; null for a post without media.
    form: str | None = None
    ok: bool
    reasons: list[ReasonOut]  # about the post as a whole (counts, mixing, caption)
    media: list[PlannedMedia]


class Plan(BaseModel):
    id: str
    status: Literal["draft", "scheduled"]
    ok: bool
    targets: list[PlannedTarget]
