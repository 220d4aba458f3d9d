from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from medialib.generate.models import Generation


class GenerationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, generation: Generation) -> None:
        self.session.add(generation)
        self.session.flush()

    def get(self, generation_id: str) -> Generation | None:
        return self.session.get(Generation, generation_id)

    def count_since(self, workspace_id: str, since: dt.datetime) -> int:
        query = select(func.count()).where(
            Generation.workspace_id == workspace_id, Generation.created_at >= since
        )
        return int(self.session.scalar(query) or 0)

    def recent(self, workspace_id: str, *, limit: int) -> list[Generation]:
        query = (
            select(Generation)
            .where(Generation.workspace_id == workspace_id)
            .order_by(Generation.created_at.desc(), Generation.id.desc())
            .limit(limit)
        )
        return list(self.session.scalars(query).all())

    def remove_all(self, workspace_id: str) -> None:
        """Every generation of a workspace, its prompts with it."""
        self.session.execute(delete(Generation).where(Generation.workspace_id == workspace_id))
