"""Claiming, finishing and releasing idempotency keys. Each call is its own short unit of
work (it commits), because the request it guards runs, and streams, in between: this is
the boundary the idempotency middleware works through."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from medialib.db import session_scope, utcnow
from medialib.idempotency.models import IdempotencyRecord
from medialib.idempotency.repository import IdempotencyRepository

KEEP_FOR = dt.timedelta(hours=24)
# A key still `running` after this long belongs to a request whose process died.
STALE_AFTER = dt.timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Answer:
    request_sha256: str
    status: int
    headers: dict[str, str]
    body: str


class Claimed:
    """This request holds the key and runs."""


class Running:
    """Another request with the key is running."""


Claim = Claimed | Running | Answer


class IdempotencyKeys:
    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory

    def claim(self, workspace_id: str, key: str) -> Claim:
        now = utcnow()
        with session_scope(self._factory) as session:
            records = IdempotencyRepository(session)
            record = records.get(workspace_id, key)
            if record is not None and record.expires_at <= now:
                records.remove(record)  # expired: the key may be used afresh
                record = None
            if record is not None:
                if record.status == "done":
                    return Answer(
                        request_sha256=record.request_sha256 or "",
                        status=record.response_status or 200,
                        headers=dict(record.response_headers or {}),
                        body=record.response_body or "",
                    )
                if now - record.created_at < STALE_AFTER:
                    return Running()
                record.created_at = now  # taken over from a dead request
                return Claimed()
        try:
            with session_scope(self._factory) as session:
                IdempotencyRepository(session).add(
                    IdempotencyRecord(
                        workspace_id=workspace_id,
                        key=key,
                        status="running",
                        created_at=now,
                        expires_at=now + KEEP_FOR,
                    )
                )
        except IntegrityError:
            return Running()  # another request claimed it a moment ago
        return Claimed()

    def finish(self, workspace_id: str, key: str, answer: Answer) -> None:
        with session_scope(self._factory) as session:
            record = IdempotencyRepository(session).get(workspace_id, key)
            if record is None:
                return
            record.status = "done"
            record.request_sha256 = answer.request_sha256
            record.response_status = answer.status
            record.response_headers = answer.headers
            record.response_body = answer.body
            record.expires_at = utcnow() + KEEP_FOR

    def release(self, workspace_id: str, key: str) -> None:
        """The request failed without creating anything: a retry may run again."""
        with session_scope(self._factory) as session:
            IdempotencyRepository(session).remove_key(workspace_id, key)

    def remove_expired(self, *, now: dt.datetime) -> int:
        with session_scope(self._factory) as session:
            return IdempotencyRepository(session).remove_expired(now=now)
