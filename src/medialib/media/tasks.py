"""Media jobs. Each loads what it needs in a short transaction, works without holding
one (probing can take seconds), and writes its result in another. Idempotent: a job
delivered twice finds the media already settled and does nothing.
"""

from __future__ import annotations

import time
from typing import Any

from medialib.db import session_scope
from medialib.errors import MedialibError, MediaProcessingFailed
from medialib.jobs.names import JobName
from medialib.jobs.registry import JobContext, registry
from medialib.media.models import MediaKind, MediaStatus
from medialib.media.repository import MediaRepository
from medialib.media.service import MediaService
from medialib.processing import avprobe

_PROBED_KINDS = (MediaKind.VIDEO, MediaKind.AUDIO)


def _give_up(context: JobContext, payload: dict[str, Any], error: str) -> None:
    with session_scope(context.session_factory) as session:
        media = MediaRepository(session).get_by_id(payload["media_id"])
        if media is not None:
            failure = MediaProcessingFailed(
                "Processing failed after several attempts.", reason=error[:300]
            )
            _service(context, session).fail_processing(media, failure)


@registry.register(JobName.PROCESS_MEDIA, give_up=_give_up)
def process_media(context: JobContext, payload: dict[str, Any]) -> None:
    media_id = payload["media_id"]
    with session_scope(context.session_factory) as session:
        media = MediaRepository(session).get_by_id(media_id)
        if media is None or media.status != MediaStatus.PROCESSING:
            return
        kind, key, content_type = media.kind, media.storage_key, media.content_type or ""
    if context.settings.fault_job_delay_seconds:
        time.sleep(context.settings.fault_job_delay_seconds)
    try:
        facts = _probe(context, kind=kind, key=key, content_type=content_type)
    except MedialibError as refusal:  # the bytes are at fault: retrying will not help
        _settle(context, media_id, error=refusal)
        return
    _settle(context, media_id, facts=facts)


def _probe(context: JobContext, *, kind: str, key: str, content_type: str) -> dict[str, Any]:
    if kind not in _PROBED_KINDS:
        return {}
    with context.store.local_copy(key) as path:
        facts = avprobe.probe(
            path, content_type, timeout_seconds=context.settings.probe_timeout_seconds
        )
    if kind == MediaKind.VIDEO and not facts.get("has_video"):
        raise MediaProcessingFailed("The file has no video stream.")
    if kind == MediaKind.AUDIO and not facts.get("has_audio"):
        raise MediaProcessingFailed("The file has no audio stream.")
    facts.pop("has_video", None)
    if kind == MediaKind.AUDIO:
        facts = {k: facts[k] for k in ("container", "duration_ms", "bitrate", "audio_codec")}
    return facts


def _settle(
    context: JobContext,
    media_id: str,
    *,
    facts: dict[str, Any] | None = None,
    error: MedialibError | None = None,
) -> None:
    with session_scope(context.session_factory) as session:
        media = MediaRepository(session).get_by_id(media_id)
        if media is None:
            return
        service = _service(context, session)
        if error is not None:
            service.fail_processing(media, error)
        else:
            service.finish_processing(media, facts=dict(facts or {}))


def _service(context: JobContext, session: Any) -> MediaService:
    return MediaService(session, store=context.store, settings=context.settings)
