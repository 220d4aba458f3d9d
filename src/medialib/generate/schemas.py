"""Request and response bodies of the generation API."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from medialib.media.schemas import MediaOut
from medialib.schemas import Strict

Style = Literal["realistic", "illustration", "minimal", "cinematic"]
AspectRatio = Literal["1:1", "4:5", "16:9", "9:16"]


class GenerationIn(Strict):
    kind: Literal["image", "video"] = "image"
    prompt: str = Field(min_length=1, max_length=4000)
    style: Style | None = None
    aspect_ratio: AspectRatio | None = None
    model: str | None = Field(default=None, min_length=1, max_length=200)


class GenerationOut(BaseModel):
    id: str
    media_id: str
    kind: str
    prompt: str
    style: str | None
    aspect_ratio: str | None
    provider: str
    model: str
    # pending until the media is made; then succeeded or failed (with `error`). The
    # media itself goes on to ready (or failed) through the usual processing.
    status: Literal["pending", "succeeded", "failed"]
    error: dict[str, Any] | None
    created_at: dt.datetime
    finished_at: dt.datetime | None
    # The media as GET /v1/media/{id} shows it (None once it is purged).
    media: MediaOut | None = None


class GenerationList(BaseModel):
    data: list[GenerationOut]


class KindOptions(BaseModel):
    enabled: bool
    models: list[str]


class GenerateOptions(BaseModel):
    """What this server can generate: the page shows the form, or how to configure it."""

    image: KindOptions
    video: KindOptions
    enhance: bool
    styles: list[str]
    aspect_ratios: list[str]
    per_day: int
    used_today: int


class EnhanceIn(Strict):
    prompt: str = Field(min_length=1, max_length=4000)
    style: Style | None = None


class EnhanceOut(BaseModel):
    prompt: str
