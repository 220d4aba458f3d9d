from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from medialib.media.models import MediaKind
from medialib.media.schemas import normalise_tags


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
