"""What changes a whole workspace at once: its retention, its deletion (everything of it
stops at once), and its purge once the trash's 30 days are over (every row and byte of
it). Services flush; their boundary commits."""

from __future__ import annotations

from sqlalchemy.orm import Session

from medialib.accounts.repository import AccountRepository
from medialib.db import utcnow
from medialib.errors import NotFound
from medialib.generate.repository import GenerationRepository
from medialib.idempotency.repository import IdempotencyRepository
from medialib.jobs.names import JobName
from medialib.jobs.repository import JobRepository
from medialib.media.models import MediaStatus
from medialib.media.repository import MediaRepository
from medialib.posts.models import PostStatus
from medialib.posts.repository import PostRepository
from medialib.storage.base import ObjectStore
from medialib.uploads.repository import ResumableUploadRepository
from medialib.webhooks.repository import WebhookRepository
from medialib.workspaces.models import Workspace
from medialib.workspaces.repository import WorkspaceRepository
from medialib.workspaces.service import TRASH_KEEPS, retention_expiry


class AccountService:
    def __init__(self, session: Session, *, store: ObjectStore | None = None) -> None:
        self.session = session
        self._store = store
        self.workspaces = WorkspaceRepository(session)
        self.media = MediaRepository(session)
        self.posts = PostRepository(session)

    @property
    def store(self) -> ObjectStore:
        assert self._store is not None, "purging needs the store"
        return self._store

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
        """`delete_workspace` by name (the CLI); None when there is no such workspace."""
        workspace = self.workspaces.get_by_name(workspace_name)
        if workspace is None:
            return None
        return self.delete_workspace(workspace)

    def delete_workspace(self, workspace: Workspace) -> int:
        """Delete a workspace, as hosted media services do for a cancelled account. From
        now: its keys stop working, nothing of it is served (previews, files) or accepted
        (signed upload URLs it was given), its scheduled posts stop (unscheduled), its
        webhooks stop and its network credentials are erased. All its media goes to the
        trash; `purge` removes every row and byte of it once the trash's 30 days are over.
        How many media went to the trash."""
        row = self.workspaces.get(workspace.id)
        if row is None:
            raise NotFound("No such workspace.")
        now = utcnow()
        row.deleted_at = row.deleted_at or now
        moved = 0
        for media in self.media.kept(row.id):
            media.status_before_delete = media.status
            media.status = MediaStatus.DELETED
            media.deleted_at = now
            media.expires_at = now + TRASH_KEEPS
            moved += 1
        jobs = JobRepository(self.session)
        for post in self.posts.holding_of_workspace(row.id):
            post.status, post.scheduled_at = PostStatus.DRAFT, None
            self.media.unpin(post.id)
            jobs.cancel_waiting(JobName.PUBLISH_POST, post.id)
        WebhookRepository(self.session).disable_all(row.id, at=now)
        AccountRepository(self.session).remove_all(row.id)
        self.session.flush()
        return moved

    def purge_batch(self, workspace: Workspace, *, limit: int = 500) -> list[str] | None:
        """One step of removing a deleted workspace for good: the stored keys of a batch of
        its media, whose rows are gone (the caller deletes the keys after the commit).
        None once no media is left and every other row of it has gone too."""
        batch = self.media.all_of_workspace(workspace.id, limit=limit)
        if batch:
            keys = [key for media in batch for key in (media.storage_key, *media.derived_keys)]
            for media in batch:
                self.media.remove(media)
            return keys
        uploads = ResumableUploadRepository(self.session)
        for upload in uploads.of_workspace(workspace.id):
            self.store.partials.discard(upload.id)
            uploads.remove(upload)
        self.posts.remove_all(workspace.id)
        WebhookRepository(self.session).remove_all(workspace.id)
        GenerationRepository(self.session).remove_all(workspace.id)
        IdempotencyRepository(self.session).remove_all(workspace.id)
        AccountRepository(self.session).remove_all(workspace.id)
        self.workspaces.remove(workspace)
        return None
