from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from medialib.schemas import Pagination, ReasonOut, Strict


def _require_timezone(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("scheduled_at needs a time zone (RFC 3339, e.g. …Z)")
    return value


_LANG = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$"


class TargetIn(Strict):
    platform: str = Field(min_length=1, max_length=40)
    account_id: str | None = Field(default=None, max_length=200)


INLINE_IMAGE_MAX_BYTES = 1_048_576  # decoded: bigger files are uploaded, then referenced
INLINE_IMAGES_PER_POST = 4
# The JSON of a post with its inline images: base64 is 4/3 of the bytes, plus the rest.
POST_BODY_MAX_BYTES = INLINE_IMAGES_PER_POST * (INLINE_IMAGE_MAX_BYTES * 4 // 3 + 4) + 1_048_576
_INLINE_MAX_CHARS = INLINE_IMAGE_MAX_BYTES * 4 // 3 + 4 + 200  # and a `data:` URL prefix


class PostMediaIn(Strict):
    """A media of the library (`media_id`), or a small image inline (`data`, base64 or a
    `data:` URL, at most 1 MiB decoded) that becomes a media through the same intake as
    any upload: sniffed, scanned, de-duplicated."""

    media_id: str | None = Field(default=None, min_length=1, max_length=40)
    data: str | None = Field(default=None, min_length=1, max_length=_INLINE_MAX_CHARS)
    kind: Literal["image"] | None = None  # of inline `data`: only images come inline
    filename: str | None = Field(default=None, min_length=1, max_length=255)  # of `data`
    # Absent: the media's description stands in.
    alt_text: str | None = Field(default=None, max_length=10_000)
    title: str | None = Field(default=None, max_length=400)  # a document's title

    @model_validator(mode="after")
    def _one_source(self) -> PostMediaIn:
        if (self.media_id is None) == (self.data is None):
            raise ValueError("give either media_id or inline data, not both")
        if self.data is None and (self.kind is not None or self.filename is not None):
            raise ValueError("kind and filename describe inline data")
        return self


class PostCreate(Strict):
    text: str = Field(default="", max_length=100_000)
    targets: list[TargetIn] = Field(min_length=1, max_length=20)
    media: list[PostMediaIn] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _few_inline(self) -> PostCreate:
        if sum(item.data is not None for item in self.media) > INLINE_IMAGES_PER_POST:
            raise ValueError(f"at most {INLINE_IMAGES_PER_POST} images inline in one post")
        return self

    # Absent: a draft. Present: scheduled, once every target's rules are met.
    scheduled_at: dt.datetime | None = None
    # The text's languages (BCP 47, e.g. "en", "pt-BR"), for networks that take them.
    langs: list[Annotated[str, Field(min_length=2, max_length=20, pattern=_LANG)]] = Field(
        default_factory=list, max_length=3
    )

    _aware = field_validator("scheduled_at")(_require_timezone)


class ScheduleRequest(Strict):
    scheduled_at: dt.datetime

    _aware = field_validator("scheduled_at")(_require_timezone)


PostState = Literal["draft", "scheduled", "publishing", "published", "partly_published", "failed"]


class TargetError(BaseModel):
    code: str
    message: str
    # What the network itself answered, word for word (absent when it never answered).
    network_answer: str | None = None
    retryable: bool = False


class TargetOut(BaseModel):
    id: str
    platform: str
    account_id: str | None = None
    status: Literal["pending", "sending", "published", "failed"] = "pending"
    remote_id: str | None = None  # the network's id of the post (Bluesky: its at:// URI)
    remote_url: str | None = None
    published_at: dt.datetime | None = None
    error: TargetError | None = None
    attempts: int = 0


class PostMediaOut(BaseModel):
    media_id: str
    alt_text: str | None = None
    title: str | None = None


class PostOut(BaseModel):
    id: str
    text: str
    langs: list[str] = Field(default_factory=list)
    status: PostState
    targets: list[TargetOut]
    media: list[PostMediaOut]
    scheduled_at: dt.datetime | None
    published_at: dt.datetime | None = None
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
    checksum_sha256: str | None = None
    duration_ms: int | None = None
    alt_text: str | None = None
    cover_url: str | None = None  # a video's cover frame
    # A variant cut to an aspect ratio: the part of the upright original it shows.
    crop: dict[str, int] | None = None
    # What is cut from the file sent for it to be shown (a carousel item at the first
    # item's ratio: by medialib around its subject as the post goes, a video by the
    # network around its centre), as the part of the upright original that remains.
    network_crop: dict[str, int] | None = None
    reasons: list[ReasonOut] = Field(default_factory=list)
    # Whether its reasons keep the post from being scheduled (else they are notes).
    blocking: bool = False


class PlannedTarget(BaseModel):
    target_id: str | None = None  # none in a check: nothing is saved
    platform: str
    account_id: str | None = None
    # The network's post form the post takes (feed, carousel, reel ...), or the one it
    # comes closest to when it takes none; null for a post without media.
    form: str | None = None
    ok: bool
    reasons: list[ReasonOut]  # about the post as a whole (counts, mixing, caption)
    media: list[PlannedMedia]


class PostCheck(BaseModel):
    """What scheduling a post would answer, per network and media (nothing saved)."""

    ok: bool
    targets: list[PlannedTarget]


class Plan(BaseModel):
    id: str
    status: PostState
    ok: bool
    targets: list[PlannedTarget]


class KindOut(BaseModel):
    """How one kind of media goes out in a form, and the limits it must meet there (the
    typed rules' names: max_bytes, max_width, min_fps, video_codecs ...; `soft` lists the
    rules the network applies itself, which never refuse a file)."""

    send_as: Literal["video", "still", "gif"] | None = None
    limits: dict[str, Any]


class FormOut(BaseModel):
    id: str
    label: str
    min_items: int
    max_items: int | None
    max_per_kind: dict[str, int]
    alone: list[str]  # kinds that must be a post's only media
    mix: bool  # images and videos in one post
    caption_max_chars: int | None
    title_required: bool
    media: dict[str, KindOut]


class NetworkOut(BaseModel):
    id: str
    name: str
    forms: list[FormOut]


class PlatformList(BaseModel):
    # Changes whenever the rules' data files do; variants are keyed by it.
    version: str
    data: list[NetworkOut]
