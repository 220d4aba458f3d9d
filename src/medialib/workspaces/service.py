"""A workspace's own settings and limits: retention (its users choose it, account/ applies
it to the media) and the storage quota (the operator's, set with `medialib quota`; uploads
are checked against it in media/quota.py)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from medialib.errors import NotFound
from medialib.workspaces.models import Workspace
from medialib.workspaces.repository import WorkspaceRepository

# How long deleted media stays restorable before gc purges it.
TRASH_KEEPS = dt.timedelta(days=30)


def retention_expiry(days: int | None, start: dt.datetime) -> dt.datetime | None:
    """When media made at `start` is purged under a retention of `days` (None: never)."""
    return start + dt.timedelta(days=days) if days else None


class WorkspaceService:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.workspaces = WorkspaceRepository(session)

    def current(self, workspace: Workspace) -> Workspace:
        """The workspace as it is now (the one given may be a cached snapshot)."""
        row = self.workspaces.get(workspace.id)
        if row is None:
            raise NotFound("No such workspace.")
        return row

    def set_quota(self, workspace_name: str, quota_bytes: int | None) -> bool:
        """Give a workspace a storage quota (None: none); False when there is none so named."""
        workspace = self.workspaces.get_by_name(workspace_name)
        if workspace is None:
            return False
        workspace.quota_bytes = quota_bytes
        self.session.flush()
        return True

    def quota(self, workspace: Workspace) -> int | None:
        return self.workspaces.get_quota(workspace.id)
