"""The workspace's own settings: retention (its users choose) and quota (the operator's,
shown here, set with `medialib quota`)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from medialib.deps import CurrentWorkspace, MediaServiceDep, SessionDep

router = APIRouter(prefix="/v1/workspace", tags=["workspace"])

RetentionDays = Literal[30, 60, 90, 365]


class WorkspaceOut(BaseModel):
    id: str
    name: str
    # Media is purged this many days after upload (None: kept until deleted); a
    # `media.expiring` webhook goes out 7 days before.
    retention_days: int | None
    quota_bytes: int | None


class WorkspaceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    retention_days: RetentionDays | None


@router.get("", response_model=WorkspaceOut)
def get_workspace(workspace: CurrentWorkspace) -> WorkspaceOut:
    return _out(workspace)


@router.patch("", response_model=WorkspaceOut)
def update_workspace(
    body: WorkspaceUpdate,
    workspace: CurrentWorkspace,
    service: MediaServiceDep,
    session: SessionDep,
) -> WorkspaceOut:
    """Set the retention; every kept media's `expires_at` follows (trash keeps its own)."""
    updated = service.set_retention(workspace, body.retention_days)
    session.commit()
    return _out(updated)


def _out(workspace: object) -> WorkspaceOut:
    return WorkspaceOut.model_validate(workspace, from_attributes=True)
