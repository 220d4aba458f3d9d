from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from medialib.db import Base, JSONType, StrEnumType, UTCDateTime, utcnow


class PostStatus(enum.StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    PUBLISHING = "publishing"  # its first target started sending: no more edits
    PUBLISHED = "published"  # every target published
    PARTLY_PUBLISHED = "partly_published"  # some published, some failed
    FAILED = "failed"  # no target published


# A post in these states may still be edited, moved or unscheduled.
EDITABLE = (PostStatus.DRAFT, PostStatus.SCHEDULED)
# A post in these states holds its media (pinned: no delete, no purge).
HOLDING = (PostStatus.SCHEDULED, PostStatus.PUBLISHING)


class TargetStatus(enum.StrEnum):
    PENDING = "pending"  # not started
    SENDING = "sending"  # started: its connector is (or was, before a crash) at work
    PUBLISHED = "published"
    FAILED = "failed"


class Post(Base):
    """A post that references media the way a publishing API does (design §8), and goes
    out to its targets at `scheduled_at`."""

    __tablename__ = "posts"
    __table_args__ = (Index("ix_posts_workspace_created", "workspace_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[PostStatus] = mapped_column(
        StrEnumType(PostStatus, 16), default=PostStatus.DRAFT
    )
    scheduled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # BCP 47 language tags of the text (Bluesky's `langs`), when the poster gives them.
    langs: Mapped[list[str] | None] = mapped_column(JSONType)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    targets: Mapped[list[PostTarget]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="PostTarget.position"
    )
    media: Mapped[list[PostMedia]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="PostMedia.position"
    )


class PostTarget(Base):
    """A network (and the account on it) a post goes to, and how far it has gone: the row
    a publish job moves forward one committed step at a time, so a crash in the middle is
    resumed, never repeated (see publishing/)."""

    __tablename__ = "post_targets"
    __table_args__ = (Index("ix_post_targets_post", "post_id", "position"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    post_id: Mapped[str] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    platform: Mapped[str] = mapped_column(String(40))
    account_id: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[TargetStatus] = mapped_column(
        StrEnumType(TargetStatus, 16), default=TargetStatus.PENDING
    )
    # The key the network gets to recognise a repeated attempt (Bluesky: the record key).
    idempotency_key: Mapped[str | None] = mapped_column(String(80))
    remote_id: Mapped[str | None] = mapped_column(String(400))
    remote_url: Mapped[str | None] = mapped_column(String(2000))
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # {code, message, network_answer (the network's own words), retryable}
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


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
