"""Request and response bodies of the workspace API."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from medialib.schemas import Strict

RetentionDays = Literal[30, 60, 90, 365]


class WorkspaceOut(BaseModel):
    id: str
    name: str
    # Media is purged this many days after upload (None: kept until deleted); a
    # `media.expiring` webhook goes out 7 days before.
    retention_days: int | None
    quota_bytes: int | None


class WorkspaceUpdate(Strict):
    retention_days: RetentionDays | None


class KeyIn(Strict):
    name: str | None = Field(default=None, max_length=200)


class KeyOut(BaseModel):
    id: str
    name: str | None
    # The key's first characters (`mlk_<lookup>_…`), to tell keys apart.
    prefix: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    # Only in the answer that made the key: it is stored hashed and never shown again.
    key: str | None = None


class KeyList(BaseModel):
    data: list[KeyOut]


class WorkspaceDeletion(Strict):
    confirm: str = Field(min_length=1, max_length=200)  # the workspace's name


class WorkspaceDeleted(BaseModel):
    id: str
    deleted: bool
    media_in_trash: int
    purged_after: dt.datetime  # every row and byte of it gone by then
