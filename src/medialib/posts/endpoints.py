"""Post routes: thin over `PostService`; the route commits the request's transaction."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from medialib.deps import CurrentWorkspace, SessionDep, StateDep
from medialib.errors import PayloadTooLarge, ValidationFailed
from medialib.posts.models import Post
from medialib.posts.schemas import (
    INLINE_IMAGE_MAX_BYTES,
    POST_BODY_MAX_BYTES,
    Plan,
    PostCheck,
    PostCreate,
    PostList,
    PostOut,
    PostState,
    ScheduleRequest,
)
from medialib.posts.service import PostService
from medialib.route_marks import IDEMPOTENT, body_max, both
from medialib.runtime import Runtime
from medialib.schemas import Deleted, Pagination
from medialib.uploads.flows import confirm_inline
from medialib.workspaces.models import Workspace

router = APIRouter(prefix="/v1/posts", tags=["posts"])


async def post_service(session: SessionDep, state: StateDep) -> PostService:
    return PostService(session, store=state.store, settings=state.settings)


PostServiceDep = Annotated[PostService, Depends(post_service)]


@router.post(
    "",
    status_code=201,
    response_model=PostOut,
    openapi_extra=both(IDEMPOTENT, body_max(POST_BODY_MAX_BYTES)),
)
def create_post(
    body: PostCreate,
    workspace: CurrentWorkspace,
    service: PostServiceDep,
    session: SessionDep,
    state: StateDep,
) -> PostOut:
    """A draft (no `scheduled_at`) or a scheduled post. Scheduling checks every target's
    rules (ready media, counts, mixing, formats, sizes, durations, alt text, the post form
    each network takes it in) and answers 422 `media_validation_failed` with a reason per
    target and media.

    A media is one of the library (`media_id`) or a small image inline (`data`: base64,
    at most 1 MiB decoded, 4 a post), which becomes a media like any upload first (and
    stays in the library if the post is then refused)."""
    service.check_targets(body)  # before any inline image is taken in
    post = service.create(workspace, _with_inline_taken_in(state.runtime, workspace, body))
    session.commit()
    return post_out(post)


def _with_inline_taken_in(runtime: Runtime, workspace: Workspace, body: PostCreate) -> PostCreate:
    items = []
    for index, item in enumerate(body.media):
        if item.data is not None:
            outcome = confirm_inline(
                runtime,
                workspace,
                _decoded(item.data, index),
                filename=item.filename or f"inline-{index + 1}",
                description=item.alt_text,
            )
            if outcome.error is not None:
                raise outcome.error
            item = item.model_copy(
                update={"media_id": outcome.media.id, "data": None, "filename": None}
            )
        items.append(item)
    return body.model_copy(update={"media": items})


def _decoded(data: str, index: int) -> bytes:
    """The bytes of inline `data` (plain base64 or a `data:` URL), within the cap."""
    if data.startswith("data:"):
        data = data.partition(",")[2]
    try:
        decoded = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValidationFailed(
            "Inline data is not valid base64.", field=f"media.{index}.data"
        ) from exc
    if len(decoded) > INLINE_IMAGE_MAX_BYTES:
        raise PayloadTooLarge(max_bytes=INLINE_IMAGE_MAX_BYTES, size=len(decoded))
    if not decoded:
        raise ValidationFailed("Inline data is empty.", field=f"media.{index}.data")
    return decoded


@router.post("/check", response_model=PostCheck)
def check_post(body: PostCreate, workspace: CurrentWorkspace, service: PostServiceDep) -> PostCheck:
    """What scheduling this post would answer, per network and media, with each reason
    and its fix; nothing is saved (a composer's live check). Media by `media_id` only."""
    if any(item.data is not None for item in body.media):
        raise ValidationFailed("Check library media (`media_id`); upload inline images first.")
    evaluation = service.check(workspace, body)
    return PostCheck(ok=evaluation.ok, targets=evaluation.targets)


@router.put("/{post_id}", response_model=PostOut, openapi_extra=body_max(POST_BODY_MAX_BYTES))
def replace_post(
    post_id: str,
    body: PostCreate,
    workspace: CurrentWorkspace,
    service: PostServiceDep,
    session: SessionDep,
    state: StateDep,
) -> PostOut:
    """Save a post again: its text, networks and media replaced. Without `scheduled_at`
    it is a draft; with one it is scheduled after the same checks as creating it."""
    service.get(workspace, post_id)  # a missing post answers 404 before anything is done
    service.check_targets(body)
    post = service.replace(
        workspace, post_id, _with_inline_taken_in(state.runtime, workspace, body)
    )
    session.commit()
    return post_out(post)


@router.get("", response_model=PostList)
def list_posts(
    workspace: CurrentWorkspace,
    service: PostServiceDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    status: PostState | None = None,
    media_id: Annotated[str | None, Query(max_length=40)] = None,
) -> PostList:
    """Newest first; `status` keeps the posts in that state, `media_id` the posts that
    carry that media (its "used in")."""
    posts, total = service.page(
        workspace, limit=limit, offset=offset, status=status, media_id=media_id
    )
    return PostList(
        data=[post_out(post) for post in posts],
        pagination=Pagination(limit=limit, offset=offset, total=total),
    )


@router.get("/{post_id}", response_model=PostOut)
def get_post(post_id: str, workspace: CurrentWorkspace, service: PostServiceDep) -> PostOut:
    return post_out(service.get(workspace, post_id))


@router.post("/{post_id}/schedule", response_model=PostOut)
def schedule_post(
    post_id: str,
    body: ScheduleRequest,
    workspace: CurrentWorkspace,
    service: PostServiceDep,
    session: SessionDep,
) -> PostOut:
    """Schedule a draft (or move a scheduled post), after the same checks as creating one."""
    post = service.schedule(workspace, post_id, body.scheduled_at)
    session.commit()
    return post_out(post)


@router.post("/{post_id}/unschedule", response_model=PostOut)
def unschedule_post(
    post_id: str, workspace: CurrentWorkspace, service: PostServiceDep, session: SessionDep
) -> PostOut:
    """Back to a draft; 409 once its first target has started sending."""
    post = service.unschedule(workspace, post_id)
    session.commit()
    return post_out(post)


@router.get("/{post_id}/plan", response_model=Plan)
def post_plan(post_id: str, workspace: CurrentWorkspace, service: PostServiceDep) -> Plan:
    """Per target, what each media would be sent as: the original, that network's
    variant, or nothing, with the reasons."""
    post, evaluation = service.plan(workspace, post_id)
    return Plan(id=post.id, status=post.status, ok=evaluation.ok, targets=evaluation.targets)


@router.delete("/{post_id}", response_model=Deleted)
def delete_post(
    post_id: str, workspace: CurrentWorkspace, service: PostServiceDep, session: SessionDep
) -> Deleted:
    service.delete(workspace, post_id)
    session.commit()
    return Deleted(id=post_id, deleted=True)


def post_out(post: Post) -> PostOut:
    return PostOut.model_validate(
        {
            "id": post.id,
            "text": post.text,
            "langs": post.langs or [],
            "status": post.status,
            "targets": [
                {
                    "id": target.id,
                    "platform": target.platform,
                    "account_id": target.account_id,
                    "status": target.status,
                    "remote_id": target.remote_id,
                    "remote_url": target.remote_url,
                    "published_at": target.published_at,
                    "error": target.error,
                    "attempts": target.attempts,
                }
                for target in post.targets
            ],
            "media": [
                {"media_id": m.media_id, "alt_text": m.alt_text, "title": m.title}
                for m in post.media
            ],
            "scheduled_at": post.scheduled_at,
            "published_at": post.published_at,
            "created_at": post.created_at,
            "updated_at": post.updated_at,
        }
    )
