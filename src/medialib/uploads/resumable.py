"""Resumable uploads (tus 1.0): create one, find it, keep it alive, finish it, end it.

The bytes live in the store's partials; this service keeps the rows. A resumable upload
fills a media that is `uploading` until its last byte is in; then it is confirmed like
any other upload.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from medialib.config import Settings
from medialib.db import utcnow
from medialib.errors import InvalidState, NotFound, UploadExpired, ValidationFailed
from medialib.ids import new_id
from medialib.media.intake import MediaIntake
from medialib.media.models import Media, MediaStatus
from medialib.media.repository import MediaRepository
from medialib.media.schemas import UploadRequest
from medialib.storage.base import ObjectStore
from medialib.uploads.models import ResumableUpload
from medialib.uploads.repository import ResumableUploadRepository
from medialib.workspaces.models import Workspace

TUS_PATH = "/v1/tus"


@dataclass(frozen=True, slots=True)
class UploadView:
    """What a request needs to know of an upload, detached from any session."""

    id: str
    media_id: str
    storage_key: str
    content_type: str
    length: int
    upload_metadata: str | None
    expires_at: dt.datetime
    completed: bool

    @property
    def path(self) -> str:
        return f"{TUS_PATH}/{self.id}"


class ResumableUploads:
    def __init__(self, session: Session, *, store: ObjectStore, settings: Settings) -> None:
        self.session = session
        self.store = store
        self.settings = settings
        self.media = MediaRepository(session)
        self.uploads = ResumableUploadRepository(session)

    def create(
        self, workspace: Workspace, request: UploadRequest, *, raw_metadata: str | None = None
    ) -> UploadView:
        """A new upload of `request.size` bytes, and its `uploading` media."""
        if request.size is None:
            raise ValidationFailed("A resumable upload needs its size up front.", field="size")
        intake = MediaIntake(self.session, store=self.store, settings=self.settings)
        media = intake.media_for_request(workspace, request)
        media.status = MediaStatus.UPLOADING
        media.upload_expires_at = self._new_expiry()
        upload = ResumableUpload(
            id=new_id("upl"),
            workspace_id=workspace.id,
            media_id=media.id,
            length=request.size,
            upload_metadata=raw_metadata,
            expires_at=media.upload_expires_at,
        )
        self.uploads.add(upload)
        self.store.partials.start(
            upload.id, key=media.storage_key, content_type=media.declared_content_type
        )
        return _view(upload, media)

    def find(self, workspace: Workspace, upload_id: str) -> UploadView:
        """The workspace's upload; an unfinished one past its expiry answers 410."""
        found = self.uploads.with_media(workspace.id, upload_id)
        if found is None:
            raise NotFound("No such upload.")
        upload, media = found
        if upload.completed_at is None and upload.expires_at <= utcnow():
            raise UploadExpired()
        return _view(upload, media)

    def keep_alive(self, view: UploadView) -> dt.datetime:
        """Bytes arrived: the upload expires a full time-to-live from now."""
        expires_at = self._new_expiry()
        upload = self.uploads.get(view.id)
        media = self.media.get_by_id(view.media_id)
        if upload is not None and upload.completed_at is None:
            upload.expires_at = expires_at
        if media is not None and media.status == MediaStatus.UPLOADING:
            media.upload_expires_at = expires_at
        self.session.flush()
        return expires_at

    def mark_complete(self, upload_id: str) -> None:
        """Every byte is in the store (its media is confirmed next, by the confirm flow)."""
        upload = self.uploads.get(upload_id)
        if upload is not None and upload.completed_at is None:
            upload.completed_at = utcnow()

    def terminate(self, workspace: Workspace, upload_id: str) -> UploadView:
        """Forget an unfinished upload and its media; the caller removes its bytes."""
        view = self.find(workspace, upload_id)
        if view.completed:
            raise InvalidState(
                "This upload is finished; delete its media with DELETE /v1/media/{id}.",
                media_id=view.media_id,
            )
        media = self.media.get_for_update(workspace.id, view.media_id)
        if media is not None and media.status == MediaStatus.UPLOADING:
            self.media.remove(media)
        upload = self.uploads.get(view.id)
        if upload is not None:
            self.uploads.remove(upload)
        return view

    def remove_expired(self, *, now: dt.datetime, limit: int = 1000) -> int:
        """Remove uploads past their expiry: an unfinished one's bytes and media too."""
        expired = self.uploads.expired(now=now, limit=limit)
        for upload in expired:
            if upload.completed_at is None:
                media = self.media.get_for_update(upload.workspace_id, upload.media_id)
                if media is not None and media.status == MediaStatus.UPLOADING:
                    self.store.delete(media.storage_key)
                    self.media.remove(media)
                self.store.partials.discard(upload.id)
            self.uploads.remove(upload)
        return len(expired)

    def _new_expiry(self) -> dt.datetime:
        ttl = dt.timedelta(seconds=self.settings.resumable_ttl_seconds)
        return (utcnow() + ttl).replace(microsecond=0)


def _view(upload: ResumableUpload, media: Media) -> UploadView:
    return UploadView(
        id=upload.id,
        media_id=media.id,
        storage_key=media.storage_key,
        content_type=media.declared_content_type,
        length=upload.length,
        upload_metadata=upload.upload_metadata,
        expires_at=upload.expires_at,
        completed=upload.completed_at is not None,
    )
