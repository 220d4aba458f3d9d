"""The side effects of a media's state changes, shared by every service that changes it:
its webhook event and its jobs, written in the same transaction as the change (outboxes),
and the recorded failure. Services flush; their boundary commits.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from medialib.config import Settings
from medialib.errors import MedialibError
from medialib.jobs import queue
from medialib.jobs.names import JobName
from medialib.jobs.payloads import MediaJob
from medialib.media.models import Media, MediaKind, MediaStatus
from medialib.webhooks.events import EventType
from medialib.webhooks.outbox import emit

# Where a media failed; a refusal at confirm answers a repeated confirm the same way.
CONFIRM_STAGE = "confirm"
PROCESSING_STAGE = "processing"
SCAN_STAGE = "scan"

# The job that makes an asset's derived files, by kind.
PROCESS_JOB = {
    MediaKind.IMAGE: JobName.PROCESS_IMAGE,
    MediaKind.GIF: JobName.PROCESS_IMAGE,
    MediaKind.VIDEO: JobName.PROCESS_AV,
    MediaKind.AUDIO: JobName.PROCESS_AV,
    MediaKind.DOCUMENT: JobName.PROCESS_DOCUMENT,
}
# The job that makes the per-network variants of each kind that gets them.
VARIANTS_JOB = {
    MediaKind.IMAGE: JobName.MAKE_VARIANTS,
    # An animation may become an MP4: the video queue's work.
    MediaKind.GIF: JobName.MAKE_VIDEO_VARIANTS,
    MediaKind.VIDEO: JobName.MAKE_VIDEO_VARIANTS,
}


class Transitions:
    def __init__(self, session: Session, settings: Settings) -> None:
        self.session = session
        self.settings = settings

    def emit(self, event_type: EventType, media: Media) -> None:
        """Queue a webhook event about `media` in this transaction (see webhooks/)."""
        emit(self.session, self.settings, media.workspace_id, event_type, event_data(media))

    def enqueue(self, name: JobName, media: Media) -> None:
        queue.enqueue(
            self.session,
            name,
            MediaJob(media_id=media.id),
            max_attempts=self.settings.job_max_attempts,
        )

    def enqueue_processing(self, media: Media) -> None:
        self.enqueue(PROCESS_JOB[media.kind], media)

    def enqueue_variants(self, media: Media, *, again: bool = False) -> None:
        """Once when it becomes ready, and `again` (for the kinds that get variants) when
        what they are made from changed (the job itself tells whether they are stale)."""
        if media.status != MediaStatus.READY:
            return
        # Audio and documents get no variants; the same job works out where they can go
        # (variants/readiness.py), once, on the image queue (it is quick).
        job = VARIANTS_JOB.get(MediaKind(media.network_kind), JobName.MAKE_VARIANTS)
        if media.variants is None or (again and media.gets_variants):
            self.enqueue(job, media)

    def fail(
        self, media: Media, error: MedialibError, *, stage: str, size: int | None = None
    ) -> None:
        media.status = MediaStatus.FAILED
        media.failed_stage = stage
        media.error = error.to_dict()
        if size is not None:
            media.size = size
        self.emit(EventType.MEDIA_FAILED, media)
        self.session.flush()


def event_data(media: Media) -> dict[str, Any]:
    """What an event says of a media: enough to act on, the rest is a GET away."""
    return {
        "id": media.id,
        "kind": media.kind,
        "status": media.status,
        "filename": media.filename,
        "tenant_id": media.tenant_id,
        "error": media.error,
    }
