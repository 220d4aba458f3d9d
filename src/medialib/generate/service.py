"""AI generations: what this server offers, starting one (a media in `processing`, a row
and a job, within the workspace's daily limit), and the recent ones. The job that calls
the provider is in `tasks.py`; the bytes go through the same intake as any upload."""

from __future__ import annotations

import base64
import datetime as dt
import re

from sqlalchemy.orm import Session

from medialib.config import Settings
from medialib.db import utcnow
from medialib.errors import (
    GenerationUnavailable,
    InvalidState,
    NotFound,
    RateLimited,
    ValidationFailed,
)
from medialib.fetch import HTTP_FETCHER, Fetcher
from medialib.generate.models import Generation, GenerationStatus
from medialib.generate.providers import ChatEnhancer
from medialib.generate.repository import GenerationRepository
from medialib.generate.schemas import EditIn, GenerateOptions, GenerationIn, KindOptions
from medialib.ids import new_id
from medialib.jobs.names import JobName
from medialib.jobs.payloads import GenerationJob
from medialib.jobs.queue import enqueue
from medialib.media.intake import MediaIntake
from medialib.media.models import Media, MediaKind, MediaStatus
from medialib.media.repository import MediaRepository
from medialib.processing import editing, images
from medialib.storage.base import ObjectStore
from medialib.workspaces.models import Workspace

AI_TAG = "ai-generated"
EDIT_TAG = "ai-edited"
# An extension may add at most this share of the final picture (a 4:3 photo to a story's
# 9:16 adds 58 %; 16:9 to 9:16 would add 68 %): past it the model invents most of it.
MAX_EXTENSION_SHARE = 2 / 3
EXTEND_PROMPT = "Continue the picture naturally beyond its edges, in the same style and light."
# Style presets: words added to the prompt (the page's Realistic, Illustration, ...).
STYLES = {
    "realistic": "photorealistic, natural light, fine detail",
    "illustration": "digital illustration, clean lines, vivid colour",
    "minimal": "minimalist, simple shapes, generous negative space",
    "cinematic": "cinematic still, dramatic light, wide composition",
}
ASPECT_RATIOS = ("1:1", "4:5", "16:9", "9:16")
IMAGES_PROVIDER = "openai-images"
VIDEO_PROVIDER = "predictions"


# Enhancing is interactive: a person waits for it.
ENHANCE_SECONDS = 30.0


def enhanced_prompt(
    settings: Settings,
    prompt: str,
    style: str | None,
    by: float | None = None,
    fetcher: Fetcher = HTTP_FETCHER,
) -> str:
    """A richer prompt from the configured chat model (the images API's URL and key
    unless a chat API is configured); `GenerationUnavailable` when there is none. `by`:
    the moment (`time.monotonic()`) the caller's request must end by."""
    url = settings.generate_chat_url or settings.generate_images_url
    if not url:
        raise GenerationUnavailable("No chat model is configured to enhance prompts.")
    enhancer = ChatEnhancer(
        url,
        settings.generate_chat_key or settings.generate_images_key,
        model=settings.generate_chat_model,
        timeout_seconds=min(ENHANCE_SECONDS, settings.generate_request_seconds),
        fetcher=fetcher,
    )
    return enhancer.enhance(prompt, style=style, by=by)


def styled_prompt(prompt: str, style: str | None) -> str:
    return f"{prompt.strip()}. Style: {STYLES[style]}." if style in STYLES else prompt.strip()


def nearest_size(sizes: list[str], aspect_ratio: str | None) -> str:
    """The size the model takes whose shape is nearest the aspect ratio asked for."""
    wanted = 1.0
    if aspect_ratio:
        width, height = (int(part) for part in aspect_ratio.split(":"))
        wanted = width / height

    def distance(size: str) -> float:
        width, height = (int(part) for part in size.lower().split("x"))
        return abs(width / height - wanted)

    return min(sizes, key=distance)


class GenerationService:
    def __init__(self, session: Session, *, store: ObjectStore, settings: Settings) -> None:
        self.session = session
        self.store = store
        self.settings = settings
        self.generations = GenerationRepository(session)

    def options(self, workspace: Workspace) -> GenerateOptions:
        settings = self.settings
        return GenerateOptions(
            image=KindOptions(
                enabled=bool(settings.generate_images_url),
                models=[settings.generate_images_model] if settings.generate_images_url else [],
            ),
            video=KindOptions(
                enabled=bool(settings.generate_video_url and settings.generate_video_models),
                models=list(settings.generate_video_models) if settings.generate_video_url else [],
            ),
            enhance=bool(settings.generate_chat_url or settings.generate_images_url),
            styles=list(STYLES),
            aspect_ratios=list(ASPECT_RATIOS),
            per_day=settings.generate_per_day,
            used_today=self.used_today(workspace),
        )

    def used_today(self, workspace: Workspace) -> int:
        return self.generations.count_since(workspace.id, _start_of_day(utcnow()))

    def start(self, workspace: Workspace, request: GenerationIn) -> tuple[Generation, Media]:
        """A media in `processing` that the generation job fills, and the job."""
        provider, model = self._provider_and_model(request)
        self._check_daily_limit(workspace)
        kind = MediaKind.IMAGE if request.kind == "image" else MediaKind.VIDEO
        media = MediaIntake(
            self.session, store=self.store, settings=self.settings
        ).new_media(
            workspace,
            filename=_filename(request.prompt, request.kind),
            kind=kind,
            content_type="application/octet-stream",  # the bytes say what they are
            tags=[AI_TAG],
            description=request.prompt[:5000],
        )
        media.status = MediaStatus.PROCESSING
        media.media_metadata = {
            "generation": {
                "prompt": request.prompt,
                "style": request.style,
                "aspect_ratio": request.aspect_ratio,
                "provider": provider,
                "model": model,
            }
        }
        generation = Generation(
            id=new_id("gen"),
            workspace_id=workspace.id,
            media_id=media.id,
            kind=request.kind,
            prompt=request.prompt,
            style=request.style,
            aspect_ratio=request.aspect_ratio,
            provider=provider,
            model=model,
            status=GenerationStatus.PENDING,
        )
        self.generations.add(generation)
        enqueue(
            self.session,
            JobName.GENERATE_MEDIA,
            GenerationJob(generation_id=generation.id),
            max_attempts=1,  # a provider call costs money: never repeated behind the user's back
        )
        return generation, media

    def start_edit(
        self, workspace: Workspace, media_id: str, request: EditIn
    ) -> tuple[Generation, Media]:
        """A new media in `processing` that an edit of `media_id` fills (the source stays
        as it is), and the job; the same daily limit as generations."""
        source = MediaRepository(self.session).get(workspace.id, media_id)
        if source is None or source.status == MediaStatus.DELETED:
            raise NotFound("No such media.")
        edit = self._edit_of(source, request)
        if not self.settings.generate_images_url:
            raise GenerationUnavailable("No image provider is configured to edit with.")
        self._check_daily_limit(workspace)
        prompt = request.prompt or EXTEND_PROMPT
        stem = source.filename.rsplit(".", 1)[0]
        media = MediaIntake(self.session, store=self.store, settings=self.settings).new_media(
            workspace,
            filename=f"{stem}-edited"[:200],
            kind=MediaKind.IMAGE,
            content_type="application/octet-stream",  # the bytes say what they are
            tags=[EDIT_TAG],
            description=source.description,
        )
        media.status = MediaStatus.PROCESSING
        said = {key: value for key, value in edit.items() if key != "mask"}
        media.media_metadata = {
            "generation": {
                "edit_of": source.id,
                "prompt": prompt,
                **said,
                "provider": IMAGES_PROVIDER,
                "model": self.settings.generate_images_model,
            }
        }
        generation = Generation(
            id=new_id("gen"),
            workspace_id=workspace.id,
            media_id=media.id,
            kind="edit",
            prompt=prompt,
            aspect_ratio=request.extend_to,
            provider=IMAGES_PROVIDER,
            model=self.settings.generate_images_model,
            status=GenerationStatus.PENDING,
            source_media_id=source.id,
            edit=edit,
        )
        self.generations.add(generation)
        enqueue(
            self.session,
            JobName.GENERATE_MEDIA,
            GenerationJob(generation_id=generation.id),
            max_attempts=1,  # a provider call costs money: never repeated behind the user's back
        )
        return generation, media

    def _edit_of(self, source: Media, request: EditIn) -> dict[str, object]:
        """What to change, checked against the picture: one way of saying where, inside
        it, an extension within its share."""
        if source.kind != MediaKind.IMAGE or source.network_kind != MediaKind.IMAGE:
            raise ValidationFailed("Only a still image can be edited.", field="media_id")
        if source.status != MediaStatus.READY or not source.width or not source.height:
            raise InvalidState("The image is not ready yet.")
        ways = [request.region is not None, request.mask is not None, bool(request.extend_to)]
        if sum(ways) > 1:
            raise ValidationFailed("Give one of region, mask or extend_to.", field="region")
        if not request.prompt and not request.extend_to:
            raise ValidationFailed("Say what to change.", field="prompt")
        width, height = source.width, source.height
        if request.region is not None:
            box = request.region
            if box.left + box.width > width or box.top + box.height > height:
                raise ValidationFailed(
                    f"The region goes outside the picture ({width}x{height}).", field="region"
                )
            return {"region": box.model_dump()}
        if request.mask is not None:
            _check_mask(request.mask, width, height)
            return {"mask": request.mask}
        if request.extend_to:
            across, down = (int(part) for part in request.extend_to.split(":"))
            framing = source.framing
            focal = (
                framing.focal_x if framing and framing.focal_x is not None else 0.5,
                framing.focal_y if framing and framing.focal_y is not None else 0.5,
            )
            placement = editing.extended(width, height, across / down, focal)
            if placement.added_share > MAX_EXTENSION_SHARE:
                raise ValidationFailed(
                    f"Extending to {request.extend_to} would make "
                    f"{placement.added_share:.0%} of the picture new; at most "
                    f"{MAX_EXTENSION_SHARE:.0%}. Crop or pad it instead.",
                    field="extend_to",
                    reason="extension_too_large",
                )
            if placement.added_share == 0:
                raise ValidationFailed(
                    f"The picture is {request.extend_to} already.", field="extend_to"
                )
            return {"extend_to": request.extend_to, "focal": list(focal)}
        return {}

    def recent(self, workspace: Workspace, *, limit: int) -> list[tuple[Generation, Media | None]]:
        generations = self.generations.recent(workspace.id, limit=limit)
        ids = [g.media_id for g in generations]
        media = {
            m.id: m for m in MediaRepository(self.session).by_ids(workspace.id, ids, with_tags=True)
        }
        return [(generation, media.get(generation.media_id)) for generation in generations]

    def _provider_and_model(self, request: GenerationIn) -> tuple[str, str]:
        settings = self.settings
        if request.kind == "image":
            if not settings.generate_images_url:
                raise GenerationUnavailable("No image generation provider is configured.")
            model = request.model or settings.generate_images_model
            if model != settings.generate_images_model:
                raise ValidationFailed(
                    "This server generates images with one model.",
                    field="model",
                    known=[settings.generate_images_model],
                )
            return IMAGES_PROVIDER, model
        models = settings.generate_video_models
        if not settings.generate_video_url or not models:
            raise GenerationUnavailable("No video generation provider is configured.")
        model = request.model or models[0]
        if model not in models:
            raise ValidationFailed("Unknown video model.", field="model", known=list(models))
        return VIDEO_PROVIDER, model

    def _check_daily_limit(self, workspace: Workspace) -> None:
        now = utcnow()
        limit = self.settings.generate_per_day
        if self.generations.count_since(workspace.id, _start_of_day(now)) >= limit:
            tomorrow = _start_of_day(now) + dt.timedelta(days=1)
            raise RateLimited(
                f"This workspace has made its {limit} generations for today (UTC).",
                retry_after=max(1, int((tomorrow - now).total_seconds())),
                limit=limit,
                window_seconds=86400,
            )


def _check_mask(encoded: str, width: int, height: int) -> None:
    """A mask is a PNG of the picture's size with an alpha channel (read from its header)."""
    try:
        data = base64.b64decode(encoded, validate=True)
        mask = images.vips().Image.new_from_buffer(data, "", access="sequential")
    except Exception as exc:  # not base64, or not a picture libvips reads
        raise ValidationFailed("The mask is not a base64 PNG.", field="mask") from exc
    if (mask.width, mask.height) != (width, height):
        raise ValidationFailed(
            f"The mask is {mask.width}x{mask.height}; the picture is {width}x{height}.",
            field="mask",
        )
    if not mask.hasalpha():
        raise ValidationFailed(
            "The mask needs an alpha channel: transparent where the model may paint.",
            field="mask",
        )


def _start_of_day(moment: dt.datetime) -> dt.datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _filename(prompt: str, kind: str) -> str:
    """`ai-image-a-lighthouse-at-dusk`: the extension is added once the bytes say it."""
    words = re.findall(r"[a-z0-9]+", prompt.lower())[:6]
    return f"ai-{kind}-{'-'.join(words) or 'generation'}"
