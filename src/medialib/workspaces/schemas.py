"""Request and response bodies of the workspace API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

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
