"""Request and response bodies of the upload API (upload requests and the media object
itself are media/schemas.py)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from medialib.media.models import MediaKind
from medialib.media.schemas import normalise_tags
from medialib.processing.filenames import MAX_FILENAME_CHARS
from medialib.schemas import Strict


class DirectUploadFields(BaseModel):
    """The text fields of a direct (multipart) upload."""

    model_config = ConfigDict(extra="ignore")

    kind: MediaKind | None = None
    description: str | None = Field(default=None, max_length=5000)
    tenant_id: str | None = Field(default=None, max_length=200)
    tags: list[str] | None = None

    _tags = field_validator("tags")(normalise_tags)

    @classmethod
    def from_form(cls, fields: dict[str, list[str]]) -> DirectUploadFields:
        tags = [tag for value in fields.get("tags", []) for tag in value.split(",")]
        values = {
            name: (fields[name][-1] or None)
            for name in ("kind", "description", "tenant_id")
            if name in fields
        }
        return cls.model_validate({**values, "tags": tags or None})


class StoredUpload(BaseModel):
    size: int
    checksum_sha256: str


class ProbeRequest(Strict):
    url: str = Field(min_length=1, max_length=4096)


class ImportRequest(ProbeRequest):
    filename: str | None = Field(default=None, max_length=MAX_FILENAME_CHARS)
    kind: MediaKind | None = None
    tags: list[str] | None = Field(default=None, max_length=500)
    description: str | None = Field(default=None, max_length=5000)
    tenant_id: str | None = Field(default=None, max_length=200)

    _tags = field_validator("tags")(normalise_tags)


class ProbeResult(BaseModel):
    url: str
    final_url: str
    filename: str
    content_type: str | None  # from the bytes; None when not a supported format
    kind: MediaKind | None
    declared_content_type: str | None  # what the server said
    size: int | None  # from Content-Length, when the server sent one
