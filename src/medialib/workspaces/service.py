"""A workspace's own settings and limits: retention (its users choose it) and the storage
quota (the operator's, set with `medialib quota`), which uploads are checked against."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from medialib.db import utcnow
from medialib.errors import NotFound, QuotaExceeded
from medialib.media.models import MediaStatus
from medialib.media.repository import MediaRepository
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
        self.media = MediaRepository(session)

    def set_retention(self, workspace: Workspace, days: int | None) -> Workspace:
        """Set the retention and re-date every media the workspace keeps outside the trash."""
        row = self.workspaces.get(workspace.id)
        if row is None:
            raise NotFound("No such workspace.")
        row.retention_days = days
        for media in self.media.kept(workspace.id):
            media.expires_at = retention_expiry(days, media.created_at)
            media.expiry_notified_at = None
        self.session.flush()
        return row

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

    def delete(self, workspace_name: str) -> int | None:
        """Delete a workspace, as hosted media services do for a cancelled account: its
        keys stop working at once and all its media goes to the trash, purged by gc
        when the trash's 30 days are over. How many media went; None: no such workspace."""
        workspace = self.workspaces.get_by_name(workspace_name)
        if workspace is None:
            return None
        now = utcnow()
        workspace.deleted_at = workspace.deleted_at or now
        moved = 0
        for media in self.media.kept(workspace.id):
            media.status_before_delete = media.status
            media.status = MediaStatus.DELETED
            media.deleted_at = now
            media.expires_at = now + TRASH_KEEPS
            moved += 1
        self.session.flush()
        return moved

    def quota(self, workspace: Workspace) -> int | None:
        return self.workspaces.get_quota(workspace.id)

    def check_room(self, workspace: Workspace, *, adding: int) -> None:
        """Refuse early (an upload request) what could not fit; confirm checks again."""
        quota = self.workspaces.get_quota(workspace.id)
        if quota is None:
            return
        used = self.media.bytes_kept(workspace.id)
        # A size not declared yet needs at least some room.
        if used + max(adding, 1) > quota:
            raise QuotaExceeded(quota_bytes=quota, used_bytes=used, size=adding)

    def check_room_locked(self, workspace: Workspace, *, media_id: str, size: int) -> None:
        """At confirm, with the real size: the workspace row is locked (PostgreSQL) so that
        confirms counting against one quota take turns."""
        if self.workspaces.get_quota(workspace.id) is None:
            return  # no quota: nothing to take turns over, so no lock
        quota = self.workspaces.quota_for_update(workspace.id)
        if quota is None:
            return
        used = self.media.bytes_kept(workspace.id, exclude_id=media_id)
        if used + size > quota:
            raise QuotaExceeded(quota_bytes=quota, used_bytes=used, size=size)
