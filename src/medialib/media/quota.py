"""A workspace's storage quota against the media it keeps (trash included): refused early
on an upload request (the declared size), and again at confirm with the real size."""

from __future__ import annotations

from sqlalchemy.orm import Session

from medialib.errors import QuotaExceeded
from medialib.media.repository import MediaRepository
from medialib.workspaces.models import Workspace
from medialib.workspaces.repository import WorkspaceRepository


class Quota:
    def __init__(self, session: Session) -> None:
        self.workspaces = WorkspaceRepository(session)
        self.media = MediaRepository(session)

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
