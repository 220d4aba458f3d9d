"""Applying what processing jobs found and made to the media they worked on: the scan
of big bytes, the probe facts and previews, or the failure (variants: variants/service).

Each returns whether it applied anything: a job delivered twice, or one whose media
moved on meanwhile (deleted, reprocessed), applies nothing and its caller removes the
files it made.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from medialib.config import Settings
from medialib.errors import MedialibError
from medialib.media.derivatives import Derivatives
from medialib.media.models import IMAGE_KINDS, Media, MediaStatus, ScanStatus
from medialib.media.transitions import PROCESSING_STAGE, SCAN_STAGE, Transitions
from medialib.scanning.base import ScanVerdict
from medialib.scanning.service import refuse_unclean
from medialib.storage.base import ObjectBytes
from medialib.webhooks.events import EventType


class JobOutcomes:
    def __init__(self, session: Session, *, store: ObjectBytes, settings: Settings) -> None:
        self.session = session
        self.store = store
        self.transitions = Transitions(session, settings)

    def apply_scan(self, media: Media, verdict: ScanVerdict) -> bool:
        """Record the processing job's scan of big bytes; False when they were refused
        (the media fails and its bytes are removed)."""
        try:
            refuse_unclean(verdict)
        except MedialibError as refusal:
            self.transitions.fail(media, refusal, stage=SCAN_STAGE)
            self.store.delete(media.storage_key)
            return False
        media.scan_status = ScanStatus.CLEAN
        self.session.flush()
        return True

    def apply_derivatives(self, media: Media, derived: Derivatives) -> bool:
        if media.status not in (MediaStatus.PROCESSING, MediaStatus.READY) or (
            media.status == MediaStatus.READY and media.thumbnail is not None
        ):
            return False
        facts = dict(derived.facts)
        for column in ("width", "height", "duration_ms"):
            value = facts.pop(column, None)
            if isinstance(value, int):
                setattr(media, column, value)
        media.media_metadata = {**(media.media_metadata or {}), **facts}
        became_ready = media.status != MediaStatus.READY
        media.thumbnail = derived.thumbnail
        media.display = derived.display or media.display
        media.status = MediaStatus.READY
        if became_ready:
            self.transitions.emit(EventType.MEDIA_READY, media)
        self.transitions.enqueue_variants(media)
        self.session.flush()
        return True

    def fail_processing(self, media: Media, error: MedialibError) -> list[str]:
        """Record that processing failed for good; the keys of its stored files, for the
        caller to remove once this is committed (a failed media keeps no bytes: they would
        sit outside the quota and outside gc). Nothing when the media had moved on."""
        # An image is `ready` from confirm (its header was sound), but pixels that cannot
        # be decoded for its preview mean the file is broken after all.
        undecodable_image = (
            media.status == MediaStatus.READY
            and media.kind in IMAGE_KINDS
            and media.thumbnail is None
        )
        if media.status != MediaStatus.PROCESSING and not undecodable_image:
            return []
        self.transitions.fail(media, error, stage=PROCESSING_STAGE)
        return [media.storage_key, *media.derived_keys]
