from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from medialib.media.models import PostCut
from medialib.posts.models import HOLDING, Post, PostMedia, PostTarget, TargetStatus


class PostRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, post: Post) -> None:
        self.session.add(post)
        self.session.flush()

    def get(self, workspace_id: str, post_id: str) -> Post | None:
        return self.session.scalar(
            select(Post).where(Post.id == post_id, Post.workspace_id == workspace_id)
        )

    def get_for_update(self, workspace_id: str, post_id: str) -> Post | None:
        """The post with its row locked (PostgreSQL; SQLite's transaction is IMMEDIATE):
        edits and the publisher's start take turns."""
        return self.session.scalar(
            select(Post)
            .where(Post.id == post_id, Post.workspace_id == workspace_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    def get_by_id(self, post_id: str) -> Post | None:
        return self.session.get(Post, post_id)

    def get_by_id_for_update(self, post_id: str) -> Post | None:
        """For the publisher, which carries ids only."""
        return self.session.scalar(
            select(Post)
            .where(Post.id == post_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    def target(self, target_id: str) -> PostTarget | None:
        return self.session.get(PostTarget, target_id)

    def target_for_update(self, target_id: str) -> PostTarget | None:
        return self.session.scalar(
            select(PostTarget)
            .where(PostTarget.id == target_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    def page(
        self,
        workspace_id: str,
        *,
        limit: int,
        offset: int,
        status: str | None = None,
        media_id: str | None = None,
    ) -> tuple[list[Post], int]:
        """Newest first; `status` and `media_id` (posts that carry it) narrow it."""
        query = select(Post).where(Post.workspace_id == workspace_id)
        if status is not None:
            query = query.where(Post.status == status)
        if media_id is not None:
            carrying = select(PostMedia.post_id).where(PostMedia.media_id == media_id)
            query = query.where(Post.id.in_(carrying))
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.scalars(
            query.order_by(Post.created_at.desc(), Post.id.desc()).limit(limit).offset(offset)
        ).all()
        return list(rows), int(total)

    def remove(self, post: Post) -> None:
        self.session.delete(post)
        self.session.flush()

    def posts_waiting_on(self, account_id: str) -> list[str]:
        """Scheduled or publishing posts with a target on this account still to go."""
        query = (
            select(Post.id)
            .join(PostTarget, PostTarget.post_id == Post.id)
            .where(
                PostTarget.account_id == account_id,
                PostTarget.status.in_((TargetStatus.PENDING, TargetStatus.SENDING)),
                Post.status.in_(HOLDING),
            )
            .distinct()
        )
        return list(self.session.scalars(query).all())

    def holding_of_workspace(self, workspace_id: str) -> list[Post]:
        """A workspace's scheduled and publishing posts."""
        query = select(Post).where(Post.workspace_id == workspace_id, Post.status.in_(HOLDING))
        return list(self.session.scalars(query).all())

    def remove_all(self, workspace_id: str) -> None:
        """Every post of a workspace (targets and media rows go with them)."""
        for post in self.session.scalars(select(Post).where(Post.workspace_id == workspace_id)):
            self.session.delete(post)
        self.session.flush()

    def cuts_of(self, post: Post) -> list[PostCut]:
        """The files cut for the post's targets (carousel items, as it was published)."""
        ids = [target.id for target in post.targets]
        if not ids:
            return []
        return list(self.session.scalars(select(PostCut).where(PostCut.target_id.in_(ids))))
