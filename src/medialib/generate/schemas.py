"""Request and response bodies of the generation API."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from medialib.media.schemas import MediaOut
from medialib.schemas import Strict

Style = Literal["realistic", "illustration", "minimal", "cinematic"]
AspectRatio = Literal["1:1", "4:5", "16:9", "9:16"]
MASK_MAX_CHARS = 24 * 1024 * 1024  # base64 of a PNG mask: a large picture's, with room


class GenerationIn(Strict):
    kind: Literal["image", "video"] = "image"
    prompt: str = Field(min_length=1, max_length=4000)
    style: Style | None = None
    aspect_ratio: AspectRatio | None = None
    model: str | None = Field(default=None, min_length=1, max_length=200)


class RegionIn(Strict):
    """A rectangle of the upright picture, in its pixels: where the model may paint."""

    left: int = Field(ge=0)
    top: int = Field(ge=0)
    width: int = Field(ge=1)
    height: int = Field(ge=1)


class EditIn(Strict):
    """Change an image with words: a new media is made, the source is never changed.
    Say where with `region` (a rectangle) or `mask` (a PNG of the picture's size, base64,
    transparent where the model may paint); neither: the whole picture. Or `extend_to` a
    ratio ("4:5", "9:16"): the canvas grows around the focal point and the model fills
    only the new part."""

    prompt: str | None = Field(default=None, min_length=1, max_length=4000)
    region: RegionIn | None = None
    mask: str | None = Field(default=None, min_length=1, max_length=MASK_MAX_CHARS)
    extend_to: str | None = Field(default=None, pattern=r"^[1-9][0-9]{0,3}:[1-9][0-9]{0,3}$")


class GenerationOut(BaseModel):
    id: str
    media_id: str
    kind: str  # image, video, or edit (of `source_media_id`)
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
    source_media_id: str | None = None
    edit: dict[str, Any] | None = None
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
