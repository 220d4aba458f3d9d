from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from medialib.posts.models import Post, PostMedia


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
