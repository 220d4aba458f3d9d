from __future__ import annotations

import datetime as dt
import enum

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from medialib.db import Base, RecordJSON, UTCDateTime, utcnow


class PostStatus(enum.StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"


class Target(BaseModel):
    """A network (and the account on it) a post goes to."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    platform: str
    account_id: str | None = None


class Post(Base):
    """Enough of a post to reference media the way a publishing API does (design §8)."""

    __tablename__ = "posts"
    __table_args__ = (Index("ix_posts_workspace_created", "workspace_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=PostStatus.DRAFT)
    targets: Mapped[list[Target]] = mapped_column(RecordJSON(list[Target]), default=list)
    scheduled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    media: Mapped[list[PostMedia]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="PostMedia.position"
    )


class PostMedia(Base):
    """A media a post carries, in order; the table that answers "which posts use this"."""

    __tablename__ = "post_media"

    post_id: Mapped[str] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    media_id: Mapped[str] = mapped_column(String(40), index=True)
    alt_text: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(String(400))  # a document's (LinkedIn)
