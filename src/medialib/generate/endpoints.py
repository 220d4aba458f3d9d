"""Generation routes: thin over `GenerationService` (the job is in `tasks.py`)."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from medialib.deps import CurrentWorkspace, SessionDep, StateDep
from medialib.generate.models import Generation
from medialib.generate.schemas import (
    MASK_MAX_CHARS,
    EditIn,
    EnhanceIn,
    EnhanceOut,
    GenerateOptions,
    GenerationIn,
    GenerationList,
    GenerationOut,
)
from medialib.generate.service import ENHANCE_SECONDS, GenerationService, enhanced_prompt
from medialib.media.models import Media
from medialib.media.presenter import present
from medialib.route_marks import IDEMPOTENT, body_max, both
from medialib.storage.base import ObjectBytes

router = APIRouter(tags=["generate"])
EDIT_BODY_MAX_BYTES = MASK_MAX_CHARS + 64 * 1024  # a mask (base64) and the rest


async def generation_service(session: SessionDep, state: StateDep) -> GenerationService:
    return GenerationService(session, store=state.store, settings=state.settings)


ServiceDep = Annotated[GenerationService, Depends(generation_service)]


@router.get("/v1/generate", response_model=GenerateOptions)
def generate_options(workspace: CurrentWorkspace, service: ServiceDep) -> GenerateOptions:
    """What this server can generate (kinds, models, styles, aspect ratios) and the
    workspace's daily allowance; nothing is enabled until a provider is configured."""
    return service.options(workspace)


@router.post(
    "/v1/generations", status_code=202, response_model=GenerationOut, openapi_extra=IDEMPOTENT
)
def start_generation(
    body: GenerationIn, workspace: CurrentWorkspace, service: ServiceDep, session: SessionDep
) -> GenerationOut:
    """Generate an image or a video into the library: answers at once with its media, in
    `processing` (tagged `ai-generated`, the prompt kept in `metadata.generation`) until
    the provider's result has been taken in like any upload. 429 with `Retry-After` past
    the workspace's generations per day."""
    generation, media = service.start(workspace, body)
    session.commit()
    return _out(generation, media, service.store)


@router.post(
    "/v1/media/{media_id}/edits",
    status_code=202,
    response_model=GenerationOut,
    openapi_extra=both(IDEMPOTENT, body_max(EDIT_BODY_MAX_BYTES)),
)
def start_edit(
    media_id: str,
    body: EditIn,
    workspace: CurrentWorkspace,
    service: ServiceDep,
    session: SessionDep,
) -> GenerationOut:
    """Change an image with words, or extend it to another shape: answers at once with a
    new media in `processing` (tagged `ai-edited`, its source and the prompt in
    `metadata.generation`); the source is never changed. Every pixel outside the region,
    mask or original area is the source's own. An extension adding more than half of the
    final picture is refused (422, reason `extension_too_large`); the provider's refusal
    reaches the generation and the media in its own words. Counts against the daily
    generations, like them."""
    generation, media = service.start_edit(workspace, media_id, body)
    session.commit()
    return _out(generation, media, service.store)


@router.get("/v1/generations", response_model=GenerationList)
def recent_generations(
    workspace: CurrentWorkspace,
    service: ServiceDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 24,
) -> GenerationList:
    """The workspace's latest generations, newest first, with their media's state."""
    return GenerationList(
        data=[
            _out(generation, media, service.store)
            for generation, media in service.recent(workspace, limit=limit)
        ]
    )


@router.post("/v1/generate/enhance", response_model=EnhanceOut)
async def enhance_prompt(
    body: EnhanceIn, workspace: CurrentWorkspace, state: StateDep
) -> EnhanceOut:
    """A richer prompt written by the configured chat model (nothing is generated). Runs in
    the providers' pool of its own, never on the threads that serve other requests, within
    30 seconds of the request however slowly the provider answers; when the pool is full,
    503 with `Retry-After`."""
    by = time.monotonic() + ENHANCE_SECONDS
    prompt = await state.providers.run(
        enhanced_prompt,
        state.settings,
        body.prompt,
        body.style,
        by,
        state.runtime.fetcher,
        owner=workspace.id,
        by=by,
    )
    return EnhanceOut(prompt=prompt)


def _out(generation: Generation, media: Media | None, store: ObjectBytes) -> GenerationOut:
    return GenerationOut(
        id=generation.id,
        media_id=generation.media_id,
        kind=generation.kind,
        prompt=generation.prompt,
        style=generation.style,
        aspect_ratio=generation.aspect_ratio,
        provider=generation.provider,
        model=generation.model,
        status=generation.status,
        error=generation.error,
        created_at=generation.created_at,
        finished_at=generation.finished_at,
        source_media_id=generation.source_media_id,
        edit={k: v for k, v in (generation.edit or {}).items() if k != "mask"} or None,
        media=present(media, store) if media is not None else None,
    )
