"""Post routes: thin over `PostService`; the route commits the request's transaction."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from medialib.deps import CurrentWorkspace, SessionDep, StateDep
from medialib.posts.models import Post
from medialib.posts.schemas import Plan, PostCreate, PostList, PostOut, ScheduleRequest
from medialib.posts.service import PostService
from medialib.route_marks import IDEMPOTENT
from medialib.schemas import Deleted, Pagination

router = APIRouter(prefix="/v1/posts", tags=["posts"])


async def post_service(session: SessionDep, state: StateDep) -> PostService:
    return PostService(session, store=state.store, settings=state.settings)


PostServiceDep = Annotated[PostService, Depends(post_service)]


@router.post("", status_code=201, response_model=PostOut, openapi_extra=IDEMPOTENT)
def create_post(
    body: PostCreate, workspace: CurrentWorkspace, service: PostServiceDep, session: SessionDep
) -> PostOut:
    """A draft (no `scheduled_at`) or a scheduled post. Scheduling checks every target's
    rules (ready media, counts, mixing, formats, sizes, durations, alt text) and answers
    422 `media_validation_failed` with a reason per target and media."""
    post = service.create(workspace, body)
    session.commit()
    return _out(post)


@router.get("", response_model=PostList)
def list_posts(
    workspace: CurrentWorkspace,
    service: PostServiceDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> PostList:
    posts, total = service.page(workspace, limit=limit, offset=offset)
    return PostList(
        data=[_out(post) for post in posts],
        pagination=Pagination(limit=limit, offset=offset, total=total),
    )


@router.get("/{post_id}", response_model=PostOut)
def get_post(post_id: str, workspace: CurrentWorkspace, service: PostServiceDep) -> PostOut:
    return _out(service.get(workspace, post_id))


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
    return _out(post)


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


def _out(post: Post) -> PostOut:
    return PostOut.model_validate(
        {
            "id": post.id,
            "text": post.text,
            "status": post.status,
            "targets": [target.model_dump() for target in post.targets],
            "media": [
                {"media_id": m.media_id, "alt_text": m.alt_text, "title": m.title}
                for m in post.media
            ],
            "scheduled_at": post.scheduled_at,
            "created_at": post.created_at,
            "updated_at": post.updated_at,
        }
    )
