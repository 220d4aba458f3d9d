"""The workspace's own settings: retention (its users choose) and quota (the operator's,
shown here, set with `medialib quota`)."""

from __future__ import annotations

from fastapi import APIRouter

from medialib.deps import CurrentWorkspace, SessionDep
from medialib.workspaces.models import Workspace
from medialib.workspaces.schemas import WorkspaceOut, WorkspaceUpdate
from medialib.workspaces.service import WorkspaceService

router = APIRouter(prefix="/v1/workspace", tags=["workspace"])


@router.get("", response_model=WorkspaceOut)
def get_workspace(workspace: CurrentWorkspace, session: SessionDep) -> WorkspaceOut:
    return _out(WorkspaceService(session).current(workspace))


@router.patch("", response_model=WorkspaceOut)
def update_workspace(
    body: WorkspaceUpdate, workspace: CurrentWorkspace, session: SessionDep
) -> WorkspaceOut:
    """Set the retention; every kept media's `expires_at` follows (trash keeps its own)."""
    updated = WorkspaceService(session).set_retention(workspace, body.retention_days)
    session.commit()
    return _out(updated)


def _out(workspace: Workspace) -> WorkspaceOut:
    return WorkspaceOut.model_validate(workspace, from_attributes=True)
