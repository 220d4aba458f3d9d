from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from medialib.db import Base, JSONType, UTCDateTime, utcnow


class MediaKind(enum.StrEnum):
    IMAGE = "image"
    GIF = "gif"
    VIDEO = "video"
    AUDIO = "audio"
    DOCUMENT = "document"


class MediaStatus(enum.StrEnum):
    PENDING_UPLOAD = "pending_upload"
    UPLOADING = "uploading"  # a resumable upload has begun and not finished
    UPLOADED = "uploaded"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"
    DELETED = "deleted"


CONFIRMABLE = (MediaStatus.PENDING_UPLOAD, MediaStatus.UPLOADING, MediaStatus.UPLOADED)


class Media(Base):
    __tablename__ = "media"
    __table_args__ = (
        Index("ix_media_workspace_created", "workspace_id", "created_at", "id"),
        Index("ix_media_workspace_status", "workspace_id", "status"),
        Index("ix_media_workspace_checksum", "workspace_id", "checksum_sha256"),
        Index("ix_media_workspace_deleted", "workspace_id", "deleted_at"),
        Index("ix_media_expires_at", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(20), default=MediaStatus.PENDING_UPLOAD)
    filename: Mapped[str] = mapped_column(String(255))
    declared_content_type: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(255))
    declared_size: Mapped[int | None] = mapped_column(BigInteger)
    size: Mapped[int | None] = mapped_column(BigInteger)
    storage_key: Mapped[str] = mapped_column(String(512), unique=True)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int | None] = mapped_column(BigInteger)
    checksum_sha256: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(Text)
    tenant_id: Mapped[str | None] = mapped_column(String(200))
    media_metadata: Mapped[dict[str, Any]] = mapped_column("metadata", JSONType, default=dict)
    usage_count: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # "confirm" when intake refused the bytes: a repeated confirm answers the same error.
    failed_stage: Mapped[str | None] = mapped_column(String(16))
    # Derived files, each {key, width, height, content_type, …}: the preview, and for
    # HEIC/HEIF the JPEG rendition that is the asset's usable form.
    thumbnail: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    display: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # What POST /thumbnail asked for while its job runs: {}, {frame_time_ms} or {source_media_id}.
    thumbnail_request: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # Per-network variants: [{key, platforms, width, height, size, content_type, spec}];
    # None until the variants job has run, [] when none is needed.
    variants: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    duplicate_of: Mapped[str | None] = mapped_column(String(40))
    # Restoring from the trash puts the media back in the state it was deleted in.
    status_before_delete: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    upload_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # When the media will be purged: its workspace's retention, or 30 days in the trash.
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # When `media.expiring` was sent for the current `expires_at`.
    expiry_notified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    tags: Mapped[list[MediaTag]] = relationship(
        cascade="all, delete-orphan", lazy="raise", order_by="MediaTag.position"
    )

    @property
    def tag_names(self) -> list[str]:
        return [tag.tag for tag in self.tags]


class MediaTag(Base):
    __tablename__ = "media_tags"
    __table_args__ = (Index("ix_media_tags_tag", "tag", "media_id"),)

    media_id: Mapped[str] = mapped_column(
        ForeignKey("media.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(100), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
