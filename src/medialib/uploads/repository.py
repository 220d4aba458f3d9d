from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from medialib.media.models import Media
from medialib.uploads.models import ResumableUpload


class ResumableUploadRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, upload: ResumableUpload) -> None:
        self.session.add(upload)
        self.session.flush()

    def get(self, upload_id: str) -> ResumableUpload | None:
        return self.session.get(ResumableUpload, upload_id)

    def with_media(self, workspace_id: str, upload_id: str) -> tuple[ResumableUpload, Media] | None:
        found = self.session.execute(
            select(ResumableUpload, Media)
            .join(Media, Media.id == ResumableUpload.media_id)
            .where(ResumableUpload.id == upload_id, ResumableUpload.workspace_id == workspace_id)
        ).first()
        return (found[0], found[1]) if found is not None else None

    def expired(self, *, now: dt.datetime, limit: int) -> list[ResumableUpload]:
        query = select(ResumableUpload).where(ResumableUpload.expires_at < now).limit(limit)
        return list(self.session.scalars(query).all())

    def existing(self, upload_ids: list[str]) -> set[str]:
        """Which of these uploads have a row."""
        if not upload_ids:
            return set()
        query = select(ResumableUpload.id).where(ResumableUpload.id.in_(upload_ids))
        return set(self.session.scalars(query).all())

    def remove(self, upload: ResumableUpload) -> None:
        self.session.delete(upload)
        self.session.flush()

    def of_workspace(self, workspace_id: str) -> list[ResumableUpload]:
        query = select(ResumableUpload).where(ResumableUpload.workspace_id == workspace_id)
        return list(self.session.scalars(query).all())
