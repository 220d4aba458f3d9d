from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from medialib.posts.models import Post


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

    def page(self, workspace_id: str, *, limit: int, offset: int) -> tuple[list[Post], int]:
        query = select(Post).where(Post.workspace_id == workspace_id)
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.scalars(
            query.order_by(Post.created_at.desc(), Post.id.desc()).limit(limit).offset(offset)
        ).all()
        return list(rows), int(total)

    def remove(self, post: Post) -> None:
        self.session.delete(post)
        self.session.flush()
