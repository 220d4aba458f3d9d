"""How a target ends, and how a post ends when its last target has: the post's final
state, its media released (unpinned), and the `post.published` or `post.failed` event,
all in one transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from medialib.config import Settings
from medialib.db import session_scope, utcnow
from medialib.media.repository import MediaRepository
from medialib.posts.models import Post, PostStatus, PostTarget, TargetStatus
from medialib.posts.repository import PostRepository
from medialib.runtime import Runtime
from medialib.webhooks.events import EventType
from medialib.webhooks.outbox import emit

_WORDS_MAX = 2000


def error_dict(
    code: str, message: str, network_answer: str | None = None, *, retryable: bool = False
) -> dict[str, Any]:
    return {
        "code": code,
        "message": message[:_WORDS_MAX],
        "network_answer": network_answer[:_WORDS_MAX] if network_answer else None,
        "retryable": retryable,
    }


def fail_target(
    target: PostTarget,
    code: str,
    message: str,
    *,
    network_answer: str | None = None,
    retryable: bool = False,
) -> None:
    target.status = TargetStatus.FAILED
    target.error = error_dict(code, message, network_answer, retryable=retryable)
    target.updated_at = utcnow()


def publish_target(target: PostTarget, remote_id: str, remote_url: str | None) -> None:
    target.status = TargetStatus.PUBLISHED
    target.remote_id = remote_id
    target.remote_url = remote_url
    target.published_at = utcnow()
    target.error = None
    target.updated_at = utcnow()


def settle(runtime: Runtime, post_id: str) -> None:
    """`settle_post` in a transaction of its own (the publish job's)."""
    with session_scope(runtime.session_factory) as session:
        post = PostRepository(session).get_by_id_for_update(post_id)
        if post is not None:
            settle_post(session, runtime.settings, post)


def settle_post(session: Session, settings: Settings, post: Post) -> None:
    """When every target has ended: the post's state, its media freed, its event. `post`
    is locked in the caller's transaction."""
    if post.status != PostStatus.PUBLISHING:
        return
    ended = (TargetStatus.PUBLISHED, TargetStatus.FAILED)
    if not all(target.status in ended for target in post.targets):
        return
    published = [t for t in post.targets if t.status == TargetStatus.PUBLISHED]
    if len(published) == len(post.targets):
        post.status = PostStatus.PUBLISHED
    elif published:
        post.status = PostStatus.PARTLY_PUBLISHED
    else:
        post.status = PostStatus.FAILED
    post.published_at = max((t.published_at for t in published if t.published_at), default=None)
    post.updated_at = utcnow()
    MediaRepository(session).unpin(post.id)
    published_all = post.status == PostStatus.PUBLISHED
    event = EventType.POST_PUBLISHED if published_all else EventType.POST_FAILED
    emit(session, settings, post.workspace_id, event, event_data(post))
    session.flush()


def event_data(post: Post) -> dict[str, Any]:
    """What `post.published` and `post.failed` say: the post and each target's outcome."""
    return {
        "id": post.id,
        "status": post.status,
        "scheduled_at": post.scheduled_at.isoformat() if post.scheduled_at else None,
        "targets": [
            {
                "id": target.id,
                "platform": target.platform,
                "account_id": target.account_id,
                "status": target.status,
                "remote_id": target.remote_id,
                "remote_url": target.remote_url,
                "error": target.error,
            }
            for target in post.targets
        ],
    }
