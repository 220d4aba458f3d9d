"""What changes a whole workspace's media at once: its retention and its deletion.
Services flush; their boundary commits."""

from __future__ import annotations

from sqlalchemy.orm import Session

from medialib.db import utcnow
from medialib.errors import NotFound
from medialib.media.models import MediaStatus
from medialib.media.repository import MediaRepository
from medialib.workspaces.models import Workspace
from medialib.workspaces.repository import WorkspaceRepository
from medialib.workspaces.service import TRASH_KEEPS, retention_expiry


class AccountService:
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
