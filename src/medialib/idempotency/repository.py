"""SQL of idempotency records."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from medialib.idempotency.models import IdempotencyRecord


class IdempotencyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, workspace_id: str, key: str) -> IdempotencyRecord | None:
        return self.session.get(IdempotencyRecord, (workspace_id, key))

    def add(self, record: IdempotencyRecord) -> None:
        self.session.add(record)
        self.session.flush()

    def remove(self, record: IdempotencyRecord) -> None:
        self.session.delete(record)
        self.session.flush()

    def remove_key(self, workspace_id: str, key: str) -> None:
        self.session.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.workspace_id == workspace_id, IdempotencyRecord.key == key
            )
        )

    def remove_expired(self, *, now: dt.datetime) -> int:
        expired = IdempotencyRecord.expires_at < now
        count = self.session.scalar(select(func.count()).where(expired)) or 0
        self.session.execute(delete(IdempotencyRecord).where(expired))
        return int(count)

    def remove_all(self, workspace_id: str) -> None:
        self.session.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.workspace_id == workspace_id)
        )
