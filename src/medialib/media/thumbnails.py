"""Choosing a media's preview: a video frame, another image of the workspace, or the
default again. The request is recorded and the media is `processing` until its job has
made the preview (`media/tasks.py`); the job's outcome is applied here too.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from medialib.config import Settings
from medialib.errors import InvalidState, MedialibError, NotFound, ValidationFailed
from medialib.jobs.names import JobName
from medialib.media.models import IMAGE_KINDS, Media, MediaKind, MediaStatus
from medialib.media.records import DerivedFile
from medialib.media.repository import MediaRepository
from medialib.media.transitions import Transitions
from medialib.workspaces.models import Workspace

# {} (the default), {"frame_time_ms": int} or {"source_media_id": str}.
ThumbnailAsk = dict[str, Any]


class Thumbnails:
    def __init__(self, session: Session, *, settings: Settings) -> None:
        self.session = session
        self.repository = MediaRepository(session)
        self.transitions = Transitions(session, settings)

    def request(self, workspace: Workspace, media_id: str, ask: ThumbnailAsk) -> Media:
        """Ask for a new preview. Idempotent: the same request while it runs, or once it
        is the preview, answers the same."""
        media = self.repository.get_for_update(workspace.id, media_id)
        if media is None or media.status == MediaStatus.DELETED:
            raise NotFound("No such media.")
        if media.status == MediaStatus.PROCESSING and media.thumbnail_request == ask:
            return media  # the same request is running
        current = media.thumbnail
        if media.status == MediaStatus.READY and current and (current.request or {}) == ask:
            return media  # what was asked for is already the preview
        if media.status != MediaStatus.READY:
            raise InvalidState(
                f"A thumbnail can be made for ready media; this one is {media.status}.",
                status=media.status,
            )
        self._check(workspace, media, ask)
        media.status = MediaStatus.PROCESSING
        media.thumbnail_request = ask
        self.transitions.enqueue(JobName.MAKE_THUMBNAIL, media)
        self.session.flush()
        return media

    def _check(self, workspace: Workspace, media: Media, ask: ThumbnailAsk) -> None:
        if "frame_time_ms" in ask:
            if media.kind != MediaKind.VIDEO:
                raise ValidationFailed("frame_time_ms is for videos.", field="frame_time_ms")
            if media.duration_ms is not None and ask["frame_time_ms"] > media.duration_ms:
                raise ValidationFailed(
                    f"frame_time_ms is past the end of the video ({media.duration_ms} ms).",
                    field="frame_time_ms",
                    duration_ms=media.duration_ms,
                )
        elif "source_media_id" in ask:
            source = self.repository.get(workspace.id, ask["source_media_id"])
            if source is None or source.status == MediaStatus.DELETED:
                raise NotFound("No such source media.", field="source_media_id")
            if source.kind not in IMAGE_KINDS or source.status != MediaStatus.READY:
                raise ValidationFailed(
                    "The thumbnail source must be a ready image.", field="source_media_id"
                )
        elif media.kind == MediaKind.AUDIO:
            raise ValidationFailed("Audio has no default preview; pass source_media_id.")

    def apply(self, media: Media, ask: ThumbnailAsk, thumbnail: DerivedFile) -> str | None:
        """Make a requested preview primary; returns the replaced preview's key to delete,
        or the new key itself when the request is no longer current."""
        if media.status != MediaStatus.PROCESSING or media.thumbnail_request != ask:
            return thumbnail.key
        replaced = media.thumbnail.key if media.thumbnail else None
        media.thumbnail = thumbnail
        media.thumbnail_request = None
        media.status = MediaStatus.READY
        self.session.flush()
        return replaced

    def fail(self, media: Media, ask: ThumbnailAsk, error: MedialibError) -> None:
        """A preview that could not be made leaves the asset as it was, and says why."""
        if media.status == MediaStatus.PROCESSING and media.thumbnail_request == ask:
            media.status = MediaStatus.READY
            media.thumbnail_request = None
            media.media_metadata = {
                **(media.media_metadata or {}),
                "thumbnail_error": error.to_dict(),
            }
            self.session.flush()
