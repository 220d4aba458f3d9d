from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from medialib.db import Base, UTCDateTime, utcnow


class ResumableUpload(Base):
    """A tus upload: the media it fills, how long it is, and until when it may go on.

    How far it has got is not stored here: the partial object in the store is the truth,
    so no row is written per chunk.
    """

    __tablename__ = "resumable_uploads"
    __table_args__ = (Index("ix_resumable_uploads_expires", "expires_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    media_id: Mapped[str] = mapped_column(String(40), index=True)
    length: Mapped[int] = mapped_column(BigInteger)
    # The client's Upload-Metadata header as sent, echoed back on HEAD.
    upload_metadata: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
