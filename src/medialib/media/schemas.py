"""Request and response bodies of the media API (design §3, §5)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from medialib.media.models import MediaKind, MediaStatus
from medialib.processing.filenames import MAX_FILENAME_CHARS
from medialib.schemas import Pagination, Strict

SortOrder = Literal["recent", "name", "most_used"]


@dataclass(frozen=True, slots=True)
class MediaFilters:
    kind: str | None = None
    status: str | None = None
    tag: str | None = None
    tenant_id: str | None = None
    q: str | None = None
    created_after: dt.datetime | None = None
    created_before: dt.datetime | None = None
    sort: SortOrder = "recent"
    ids: tuple[str, ...] | None = None  # only these (a page polling what it shows)
    ready_for: str | None = None  # a network id: only media it can take now


MAX_TAGS = 50
MAX_TAG_CHARS = 100


def normalise_tags(tags: list[str] | None) -> list[str] | None:
    """Trim, drop empties and duplicates (case-insensitive), keep the given order."""
    if tags is None:
        return None
    seen: set[str] = set()
    cleaned: list[str] = []
    for raw in tags:
        tag = "".join(ch for ch in raw if ch.isprintable()).strip()
        if not tag or tag.lower() in seen:
            continue
        if len(tag) > MAX_TAG_CHARS:
            raise ValueError(f"a tag is at most {MAX_TAG_CHARS} characters")
        seen.add(tag.lower())
        cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        raise ValueError(f"at most {MAX_TAGS} tags")
    return cleaned


class UploadRequest(Strict):
    # A name longer than file systems keep (255) is refused, not cut short unseen.
    filename: str = Field(min_length=1, max_length=MAX_FILENAME_CHARS)
    content_type: str | None = Field(default=None, max_length=255)
    kind: MediaKind | None = None
    size: int | None = Field(default=None, ge=0)
    tenant_id: str | None = Field(default=None, max_length=200)
    tags: list[str] | None = Field(default=None, max_length=500)
    description: str | None = Field(default=None, max_length=5000)
    mode: Literal["single", "resumable"] = "single"

    _tags = field_validator("tags")(normalise_tags)


class UploadResponse(BaseModel):
    id: str
    upload_url: str
    method: str
    headers: dict[str, str]
    expires_at: dt.datetime
    # "resumable": `upload_url` is a tus upload; send PATCHes with `Upload-Offset` (and
    # your API key), ask HEAD where it got to after a break.
    mode: Literal["single", "resumable"] = "single"


class FocalPoint(Strict):
    """Where the subject is, as fractions of the upright picture (0,0 top left)."""

    x: float = Field(ge=0, le=1)
    y: float = Field(ge=0, le=1)


class FramingIn(Strict):
    """How variants fit a network's aspect ratio: `crop` around the focal point (by
    default where libvips' attention-based smart crop looks), or `pad` the whole
    picture onto a blurred backdrop (a solid one for video)."""

    fit: Literal["crop", "pad"] = "crop"
    focal_point: FocalPoint | None = None


class FramingOut(BaseModel):
    fit: Literal["crop", "pad"]
    focal_point: dict[str, float] | None


class MediaUpdate(Strict):
    tags: list[str] | None = Field(default=None, max_length=500)
    description: str | None = Field(default=None, max_length=5000)
    filename: str | None = Field(default=None, min_length=1, max_length=MAX_FILENAME_CHARS)
    # New variants are made for the new framing.
    framing: FramingIn | None = None

    _tags = field_validator("tags")(normalise_tags)


class ThumbnailRequest(Strict):
    """Exactly one of the two, or neither to regenerate the default preview."""

    source_media_id: str | None = Field(default=None, max_length=40)
    frame_time_ms: int | None = Field(default=None, ge=0, le=7 * 24 * 3600 * 1000)

    @model_validator(mode="after")
    def _exclusive(self) -> ThumbnailRequest:
        if self.source_media_id is not None and self.frame_time_ms is not None:
            raise ValueError("give source_media_id or frame_time_ms, not both")
        return self

    def as_request(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class ThumbnailAccepted(BaseModel):
    id: str
    status: MediaStatus


class MediaError(BaseModel):
    code: str
    message: str


class Thumbnail(BaseModel):
    url: str
    width: int | None
    height: int | None
    frame_time_ms: int | None = None
    source: Literal["generated", "custom", "original"]


class MediaOut(BaseModel):
    id: str
    kind: MediaKind
    filename: str
    content_type: str | None
    size: int | None
    status: MediaStatus
    width: int | None
    height: int | None
    duration_ms: int | None
    checksum_sha256: str | None
    tags: list[str]
    description: str | None
    tenant_id: str | None
    metadata: dict[str, Any]
    url: str | None
    thumbnail_url: str | None
    thumbnail: Thumbnail | None
    usage_count: int
    framing: FramingOut
    # The networks it can go out to now, as itself or by a current variant (GET
    # /v1/media?ready_for= filters by it); None until first worked out, soon after ready.
    ready_for: list[str] | None = None
    duplicate_of: str | None
    error: dict[str, Any] | None
    created_at: dt.datetime
    updated_at: dt.datetime
    expires_at: dt.datetime | None
    deleted_at: dt.datetime | None


class MediaList(BaseModel):
    data: list[MediaOut]
    pagination: Pagination


class KindUsage(BaseModel):
    count: int
    bytes: int


class Usage(BaseModel):
    media_count: int
    bytes_used: int
    # None: no quota (`medialib quota set` gives a workspace one).
    quota_bytes: int | None
    by_kind: dict[str, KindUsage]
    # AI generations started today (UTC) and the workspace's daily allowance.
    generations_today: int = 0
    generations_per_day: int = 0


class BulkDelete(Strict):
    ids: list[str] = Field(min_length=1, max_length=100)


class BulkTags(Strict):
    """Tags added to, and removed from, up to 100 media at once (case-insensitively)."""

    ids: list[str] = Field(min_length=1, max_length=100)
    add: list[str] = Field(default_factory=list, max_length=MAX_TAGS)
    remove: list[str] = Field(default_factory=list, max_length=MAX_TAGS)

    _tags = field_validator("add", "remove")(normalise_tags)


class BulkTagged(BaseModel):
    updated: list[str]
    not_found: list[str]


class BulkDeleted(BaseModel):
    deleted: list[str]
    not_found: list[str]
    in_use: list[str] = Field(default_factory=list)
