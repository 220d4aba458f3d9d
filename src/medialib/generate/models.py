from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from medialib.db import Base, JSONType, StrEnumType, UTCDateTime, utcnow


class GenerationStatus(enum.StrEnum):
    PENDING = "pending"  # its job has not finished
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Generation(Base):
    """One AI generation: what was asked of which provider, and the media it fills."""

    __tablename__ = "generations"
    __table_args__ = (Index("ix_generations_workspace_created", "workspace_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    media_id: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # image, video, edit (of an image)
    prompt: Mapped[str] = mapped_column(Text)
    style: Mapped[str | None] = mapped_column(String(40))
    aspect_ratio: Mapped[str | None] = mapped_column(String(16))
    provider: Mapped[str] = mapped_column(String(40))
    model: Mapped[str] = mapped_column(String(200))
    status: Mapped[GenerationStatus] = mapped_column(
        StrEnumType(GenerationStatus, 16), default=GenerationStatus.PENDING
    )
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # An edit: the media it starts from (never changed) and what to change there
    # ({"region": {...}} / {"mask": true} / {"extend_to": "4:5"}).
    source_media_id: Mapped[str | None] = mapped_column(String(40))
    edit: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
