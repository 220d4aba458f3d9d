"""The schema kit every domain's request and response bodies build on."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """A request body: unknown fields are refused (a typo never passes silently)."""

    model_config = ConfigDict(extra="forbid")


class Pagination(BaseModel):
    limit: int
    offset: int
    total: int


class Deleted(BaseModel):
    id: str
    deleted: bool
