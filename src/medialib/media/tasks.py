"""Media job handlers. Each reads what it needs in a short transaction, works without one
(decoding can take seconds), and records the result in another. Idempotent: a job
delivered twice finds its work applied and stores nothing new.
"""

from __future__ import annotations

import time

from sqlalchemy.orm import Session

from medialib.db import session_scope
from medialib.errors import MedialibError, MediaProcessingFailed
from medialib.jobs.names import JobName
from medialib.jobs.payloads import JobOutcome, MediaJob
from medialib.jobs.registry import JobContext, registry
from medialib.media import derivatives
from medialib.media.derivatives import Original
from medialib.media.models import MediaStatus, ScanStatus
from medialib.media.outcomes import JobOutcomes
from medialib.media.repository import MediaRepository
from medialib.media.thumbnails import Thumbnails
from medialib.scanning.base import ScannerUnavailable
from medialib.scanning.service import counted


def _outcomes(context: JobContext, session: Session) -> JobOutcomes:
    return JobOutcomes(session, store=context.store, settings=context.settings)


def _thumbnails(context: JobContext, session: Session) -> Thumbnails:
    return Thumbnails(session, settings=context.settings)


def _pause_for_fault_injection(context: JobContext) -> None:
    if context.settings.fault_job_delay_seconds:
        time.sleep(context.settings.fault_job_delay_seconds)


def _fail_processing(context: JobContext, media_id: str, failure: MedialibError) -> None:
    """Mark the media failed, then (once that is committed) remove its bytes."""
    with session_scope(context.session_factory) as session:
        media = MediaRepository(session).get_by_id(media_id)
        stale = _outcomes(context, session).fail_processing(media, failure) if media else []
    for key in stale:
        context.store.delete(key)


def _give_up_processing(context: JobContext, job: MediaJob, error: str) -> None:
    failure = MediaProcessingFailed("Processing failed after several attempts.", reason=error[:300])
    _fail_processing(context, job.media_id, failure)


def process_media(context: JobContext, job: MediaJob) -> JobOutcome:
    """Probe and preview an asset after confirm; it ends `ready` or `failed`."""
    with session_scope(context.session_factory) as session:
        media = MediaRepository(session).get_by_id(job.media_id)
        if media is None or media.status not in (MediaStatus.PROCESSING, MediaStatus.READY):
            return JobOutcome.SKIPPED
        if media.status == MediaStatus.READY and media.thumbnail is not None:
            return JobOutcome.SKIPPED  # already done by an earlier delivery
        original = Original.of(media)
        unscanned = media.scan_status == ScanStatus.PENDING
    _pause_for_fault_injection(context)
    if unscanned and not _scan(context, original):
        return JobOutcome.REFUSED
    try:
        made = derivatives.process(context.store, context.settings, original)
    except MedialibError as refusal:  # the bytes are at fault: retrying will not help
        _fail_processing(context, original.media_id, refusal)
        return JobOutcome.REFUSED
    with session_scope(context.session_factory) as session:
        media = MediaRepository(session).get_by_id(original.media_id)
        applied = media is not None and _outcomes(context, session).apply_derivatives(media, made)
    if not applied:
        for key in made.stored_keys():
            context.store.delete(key)
        return JobOutcome.SKIPPED
    return JobOutcome.DONE


def _scan(context: JobContext, original: Original) -> bool:
    """Scan bytes too big to scan during confirm; False when they were refused. A scanner
    that cannot answer raises, so the job is retried (and in the end gives up): fail closed."""
    if context.scanner is None:
        raise ScannerUnavailable("this media waits for a scan, but MEDIALIB_CLAMD_URL is unset")
    verdict = counted(context.scanner.scan(context.store.iter_bytes(original.storage_key)))
    with session_scope(context.session_factory) as session:
        media = MediaRepository(session).get_by_id(original.media_id)
        return media is not None and _outcomes(context, session).apply_scan(media, verdict)


for _name in (JobName.PROCESS_IMAGE, JobName.PROCESS_AV, JobName.PROCESS_DOCUMENT):
    registry.register(_name, MediaJob, give_up=_give_up_processing)(process_media)


def _give_up_thumbnail(context: JobContext, job: MediaJob, error: str) -> None:
    with session_scope(context.session_factory) as session:
        media = MediaRepository(session).get_by_id(job.media_id)
        if media is not None and media.thumbnail_request is not None:
            failure = MediaProcessingFailed("The thumbnail could not be made.", reason=error[:300])
            _thumbnails(context, session).fail(media, media.thumbnail_request, failure)


@registry.register(JobName.MAKE_THUMBNAIL, MediaJob, give_up=_give_up_thumbnail)
def make_thumbnail(context: JobContext, job: MediaJob) -> JobOutcome:
    """Make the preview POST /thumbnail asked for and make it primary."""
    with session_scope(context.session_factory) as session:
        repository = MediaRepository(session)
        media = repository.get_by_id(job.media_id)
        if (
            media is None
            or media.status != MediaStatus.PROCESSING
            or media.thumbnail_request is None
        ):
            return JobOutcome.SKIPPED
        request = dict(media.thumbnail_request)
        original = Original.of(media)
        source = None
        if "source_media_id" in request:
            source_media = repository.get(media.workspace_id, request["source_media_id"])
            source = Original.usable(source_media) if source_media is not None else None
    _pause_for_fault_injection(context)
    try:
        if "source_media_id" in request and source is None:
            raise MediaProcessingFailed("The thumbnail source no longer exists.")
        made = derivatives.custom_thumbnail(
            context.store, context.settings, original, request, source
        )
        # What made it: repeating the request is then a no-op.
        thumbnail = made.model_copy(update={"request": request})
    except MedialibError as refusal:
        with session_scope(context.session_factory) as session:
            media = MediaRepository(session).get_by_id(original.media_id)
            if media is not None:
                _thumbnails(context, session).fail(media, request, refusal)
        return JobOutcome.REFUSED
    with session_scope(context.session_factory) as session:
        media = MediaRepository(session).get_by_id(original.media_id)
        stale: str | None = thumbnail.key
        if media is not None:
            stale = _thumbnails(context, session).apply(media, request, thumbnail)
    if stale:
        context.store.delete(stale)
    return JobOutcome.DONE
