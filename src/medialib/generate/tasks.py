"""The generation job: ask the provider (with a deadline), take the result's bytes (a
result URL is outside input: fetched through the SSRF-safe fetcher, within the kind's
cap), store them under the media's key and confirm the media like any upload (sniffed,
scanned, de-duplicated, processed, variants). Any failure ends the media `failed` with
the reason, and the generation with it. One attempt only: a provider call costs money.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from medialib.config import Settings
from medialib.db import session_scope, utcnow
from medialib.errors import GenerationFailed, MedialibError
from medialib.fetch import fetch
from medialib.generate.fitting import fit_to_asked
from medialib.generate.models import Generation, GenerationStatus
from medialib.generate.providers import GeneratedFile, Providers
from medialib.generate.repository import GenerationRepository
from medialib.generate.service import nearest_size, styled_prompt
from medialib.jobs.names import JobName
from medialib.jobs.payloads import GenerationJob, JobOutcome
from medialib.jobs.registry import JobContext, registry
from medialib.media.models import MediaStatus
from medialib.media.repository import MediaRepository
from medialib.media.transitions import Transitions
from medialib.processing import editing, sniff
from medialib.storage.base import put_file
from medialib.uploads.flows import confirm_generated, store_chunks
from medialib.uploads.importer import policy_for
from medialib.workspaces.repository import WorkspaceRepository

GENERATE_STAGE = "generate"


@dataclass(frozen=True, slots=True)
class _Asked:
    generation_id: str
    workspace_id: str
    media_id: str
    storage_key: str
    filename: str
    kind: str
    prompt: str
    style: str | None
    aspect_ratio: str | None
    model: str
    source_key: str | None = None  # an edit: the source's usable file
    source_size: tuple[int, int] | None = None
    edit: dict[str, Any] | None = None


def _give_up(context: JobContext, job: GenerationJob, error: str) -> None:
    """The job itself broke (not the provider): the generation and its media fail."""
    with session_scope(context.session_factory) as session:
        generation = GenerationRepository(session).get(job.generation_id)
        if generation is not None and generation.status == GenerationStatus.PENDING:
            broke = GenerationFailed(f"The generation broke: {error}")
            _mark_failed(session, context.settings, generation, broke)


@registry.register(JobName.GENERATE_MEDIA, GenerationJob, give_up=_give_up)
def generate(context: JobContext, job: GenerationJob) -> JobOutcome:
    asked = _read(context, job.generation_id)
    if asked is None:
        return JobOutcome.SKIPPED  # done before (a job delivered twice), or its media is gone
    try:
        if asked.kind == "edit":
            _edit(context, asked)
            fitted = None
        else:
            result = _call_provider(context, asked)
            _store(context, asked, result)
            fitted = fit_to_asked(
                context.store, context.settings, asked.storage_key, asked.aspect_ratio
            )
    except MedialibError as error:
        _fail(context, asked.generation_id, error)
        context.store.delete(asked.storage_key)
        return JobOutcome.REFUSED
    if fitted is not None:
        _say_fitted(context, asked.media_id, fitted)
    _confirm(context, asked)
    return JobOutcome.DONE


def _say_fitted(context: JobContext, media_id: str, fitted: dict[str, object]) -> None:
    with session_scope(context.session_factory) as session:
        media = MediaRepository(session).get_by_id(media_id)
        if media is not None:
            metadata = dict(media.media_metadata or {})
            metadata["generation"] = {**metadata.get("generation", {}), "fitted": fitted}
            media.media_metadata = metadata


def _read(context: JobContext, generation_id: str) -> _Asked | None:
    with session_scope(context.session_factory) as session:
        generation = GenerationRepository(session).get(generation_id)
        if generation is None or generation.status != GenerationStatus.PENDING:
            return None
        media = MediaRepository(session).get_by_id(generation.media_id)
        if media is None or media.status != MediaStatus.PROCESSING:
            return None
        source = (
            MediaRepository(session).get_by_id(generation.source_media_id)
            if generation.source_media_id
            else None
        )
        if generation.kind == "edit" and (source is None or not source.width):
            broke = GenerationFailed("The image to edit is gone.")
            _mark_failed(session, context.settings, generation, broke)
            return None
        return _Asked(
            generation_id=generation.id,
            workspace_id=generation.workspace_id,
            media_id=media.id,
            storage_key=media.storage_key,
            filename=media.filename,
            kind=generation.kind,
            prompt=generation.prompt,
            style=generation.style,
            aspect_ratio=generation.aspect_ratio,
            model=generation.model,
            source_key=source.usable_file.key if source is not None else None,
            source_size=(source.width or 0, source.height or 0) if source is not None else None,
            edit=generation.edit,
        )


def _call_provider(context: JobContext, job: _Asked) -> GeneratedFile:
    settings = context.settings
    prompt = styled_prompt(job.prompt, job.style)
    providers = Providers(settings, context.fetcher)
    if job.kind == "image":
        size = nearest_size(settings.generate_images_sizes, job.aspect_ratio)
        return providers.images().generate(prompt=prompt, model=job.model, size=size)
    videos = providers.videos()
    prediction_id = videos.start(prompt=prompt, model=job.model, aspect_ratio=job.aspect_ratio)
    deadline = time.monotonic() + settings.generate_video_deadline_seconds
    while True:
        prediction = videos.poll(prediction_id)
        if prediction.finished:
            break
        if time.monotonic() + settings.generate_poll_seconds > deadline:
            raise GenerationFailed(
                "The provider did not finish the video in time.", reason="timeout"
            )
        time.sleep(settings.generate_poll_seconds)
    if prediction.status != "succeeded":
        reason = prediction.error or f"the prediction ended {prediction.status}"
        raise GenerationFailed(f"The provider failed: {reason}", reason="provider")
    if not prediction.output_url:
        raise GenerationFailed("The provider's prediction has no output.")
    return GeneratedFile(url=prediction.output_url)


def _edit(context: JobContext, job: _Asked) -> None:
    """The source and its mask to the provider's edit; its answer put back under the
    source (every pixel outside the mask is the source's) and stored as the new media."""
    settings = context.settings
    if not settings.generate_images_url:
        raise GenerationFailed("Image editing is no longer configured.")
    images = Providers(settings, context.fetcher).images()
    assert job.source_key and job.source_size and job.edit is not None
    width, height = job.source_size
    region = editing.Region(**job.edit["region"]) if "region" in job.edit else None
    mask = _mask_of(job.edit)
    if "extend_to" in job.edit:
        across, down = (int(part) for part in str(job.edit["extend_to"]).split(":"))
        focal = job.edit.get("focal") or (0.5, 0.5)
        placement = editing.extended(width, height, across / down, (focal[0], focal[1]))
    else:
        placement = editing.unchanged(width, height)
    with (
        context.store.local_copy(job.source_key) as source,
        tempfile.TemporaryDirectory(prefix="medialib-edit-") as work,
    ):
        sent = editing.prepare(
            source, placement, region=region, mask_png=mask, sizes=settings.generate_images_sizes
        )
        size = f"{sent.size[0]}x{sent.size[1]}"
        answer = images.edit(
            image_png=sent.image_png,
            mask_png=sent.mask_png,
            prompt=job.prompt,
            model=job.model,
            size=size,
        )
        _store(context, job, answer)  # the provider's picture, as it came
        with context.store.local_copy(job.storage_key) as painted:
            out = Path(work) / "edited.png"
            editing.put_back(
                painted, source, placement, sent, region=region, mask_png=mask, out=out
            )
        context.store.delete(job.storage_key)
        put_file(context.store, job.storage_key, out, content_type="image/png")


def _mask_of(edit: dict[str, Any]) -> bytes | None:
    if "mask" not in edit:
        return None
    try:
        return base64.b64decode(str(edit["mask"]), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise GenerationFailed("The mask is not valid base64.") from exc


def _store(context: JobContext, job: _Asked, result: GeneratedFile) -> None:
    """The result's bytes under the media's key, within the kind's cap, stored as the type
    they are."""
    cap = context.settings.kind_cap("image" if job.kind == "edit" else job.kind)
    try:
        if result.data is not None:
            store_chunks(context.store, job.storage_key, [result.data], max_bytes=cap)
            return
        assert result.url is not None
        # A result URL is outside input: the same rules as a URL import.
        with fetch(result.url, policy_for(context.settings)) as fetched:
            chunks = fetched.iter_bytes(max_bytes=cap)
            store_chunks(context.store, job.storage_key, chunks, max_bytes=cap)
    except MedialibError:
        raise
    except Exception as exc:
        raise GenerationFailed(f"The result could not be stored: {exc}") from exc


def _confirm(context: JobContext, job: _Asked) -> None:
    with session_scope(context.session_factory) as session:
        workspace = WorkspaceRepository(session).get(job.workspace_id)
    if workspace is None:
        context.store.delete(job.storage_key)
        return
    head = context.store.read_head(job.storage_key, sniff.SNIFF_BYTES)
    detected = sniff.sniff(head)
    extension = (mimetypes.guess_extension(detected) or "") if detected else ""
    outcome = confirm_generated(
        context, workspace, job.media_id, key=job.storage_key, filename=job.filename + extension
    )
    with session_scope(context.session_factory) as session:
        generation = GenerationRepository(session).get(job.generation_id)
        if generation is None:
            return
        generation.finished_at = utcnow()
        if outcome.error is None:
            generation.status = GenerationStatus.SUCCEEDED
        else:
            generation.status = GenerationStatus.FAILED
            generation.error = outcome.error.to_dict()


def _fail(context: JobContext, generation_id: str, error: MedialibError) -> None:
    with session_scope(context.session_factory) as session:
        generation = GenerationRepository(session).get(generation_id)
        if generation is None:
            return
        _mark_failed(session, context.settings, generation, error)


def _mark_failed(
    session: Session, settings: Settings, generation: Generation, error: MedialibError
) -> None:
    generation.status = GenerationStatus.FAILED
    generation.error = error.to_dict()
    generation.finished_at = utcnow()
    media = MediaRepository(session).get_by_id(generation.media_id)
    if media is not None and media.status == MediaStatus.PROCESSING:
        Transitions(session, settings).fail(media, error, stage=GENERATE_STAGE)
