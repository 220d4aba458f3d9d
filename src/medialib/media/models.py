from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from medialib.db import Base, JSONType, RecordJSON, StrEnumType, UTCDateTime, utcnow
from medialib.media.records import DerivedFile, Framing, UsableFile, Variant


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


class ScanStatus(enum.StrEnum):
    """What is known of a media's bytes (`metadata.scan.status`)."""

    OFF = "off"  # no scanner configured (/readyz says so too)
    CLEAN = "clean"
    PENDING = "pending"  # too big to scan during confirm: its processing job scans first


CONFIRMABLE = (MediaStatus.PENDING_UPLOAD, MediaStatus.UPLOADING, MediaStatus.UPLOADED)
IMAGE_KINDS = (MediaKind.IMAGE, MediaKind.GIF)
# Kinds that get per-network variant files once ready (the rest are judged as they are).
VARIANT_KINDS = (MediaKind.IMAGE, MediaKind.GIF, MediaKind.VIDEO)


class Media(Base):
    __tablename__ = "media"
    __table_args__ = (
        Index("ix_media_workspace_created", "workspace_id", "created_at", "id"),
        Index("ix_media_workspace_status", "workspace_id", "status"),
        Index("ix_media_workspace_checksum", "workspace_id", "checksum_sha256"),
        Index("ix_media_workspace_deleted", "workspace_id", "deleted_at"),
        Index("ix_media_expires_at", "expires_at"),
        # The list's filters and sorts: each page is an index walk (media/paging.py).
        Index("ix_media_workspace_kind_created", "workspace_id", "kind", "created_at", "id"),
        Index("ix_media_workspace_used", "workspace_id", "usage_count", "created_at", "id"),
        Index("ix_media_workspace_name", "workspace_id", text("lower(filename)"), "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    kind: Mapped[MediaKind] = mapped_column(StrEnumType(MediaKind, 16))
    status: Mapped[MediaStatus] = mapped_column(
        StrEnumType(MediaStatus, 20), default=MediaStatus.PENDING_UPLOAD
    )
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
    # Derived files: the preview, and for HEIC/HEIF the JPEG rendition that is the
    # asset's usable form.
    thumbnail: Mapped[DerivedFile | None] = mapped_column(RecordJSON(DerivedFile))
    display: Mapped[DerivedFile | None] = mapped_column(RecordJSON(DerivedFile))
    # What POST /thumbnail asked for while its job runs: {}, {frame_time_ms} or {source_media_id}.
    thumbnail_request: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # Per-network variants: None until the variants job has run, [] when none is needed.
    variants: Mapped[list[Variant] | None] = mapped_column(RecordJSON(list[Variant]))
    # What the variants were made from: see `variants_key_for`; another key means stale.
    variants_key: Mapped[str | None] = mapped_column(String(80))
    # The key fresh variants were last asked for (variants/service.py): asked once per key.
    variants_requested: Mapped[str | None] = mapped_column(String(80))
    # The networks it can go out to now (as itself or by a current variant), written with
    # `media_readiness` (the same, as rows to filter by) by variants/readiness.py; None
    # until first worked out.
    ready_for: Mapped[list[str] | None] = mapped_column(JSONType)
    framing: Mapped[Framing | None] = mapped_column(RecordJSON(Framing))
    duplicate_of: Mapped[str | None] = mapped_column(String(40))
    # Restoring from the trash puts the media back in the state it was deleted in.
    status_before_delete: Mapped[MediaStatus | None] = mapped_column(StrEnumType(MediaStatus, 20))
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

    @property
    def usable_file(self) -> UsableFile:
        """What stands for this media wherever it is used: a HEIC through its JPEG
        rendition, everything else as uploaded."""
        if self.display is not None:
            return UsableFile(
                key=self.display.key,
                content_type=self.display.content_type,
                size=self.display.size,
            )
        return UsableFile(
            key=self.storage_key, content_type=self.content_type or "", size=self.size
        )

    @property
    def derived_keys(self) -> list[str]:
        """Every file made from the original: previews, renditions, variants."""
        derived = [self.thumbnail, self.display, *(self.variants or [])]
        return [item.key for item in derived if item is not None]

    @property
    def gets_variants(self) -> bool:
        return self.kind in VARIANT_KINDS

    @property
    def network_kind(self) -> str:
        """What it is to a network: an image that moves (an animated GIF or WebP) is an
        animation ("gif"), one that does not (a one-frame GIF) a still image."""
        if self.kind in IMAGE_KINDS:
            frames = (self.media_metadata or {}).get("frames")
            if isinstance(frames, int):
                return MediaKind.GIF if frames > 1 else MediaKind.IMAGE
        return self.kind

    @property
    def scan_status(self) -> ScanStatus | None:
        scan = (self.media_metadata or {}).get("scan")
        status = scan.get("status") if isinstance(scan, dict) else None
        return ScanStatus(status) if status in tuple(ScanStatus) else None

    @scan_status.setter
    def scan_status(self, status: ScanStatus) -> None:
        self.media_metadata = {**(self.media_metadata or {}), "scan": {"status": str(status)}}


class MediaTag(Base):
    __tablename__ = "media_tags"
    __table_args__ = (Index("ix_media_tags_tag", "tag", "media_id"),)

    media_id: Mapped[str] = mapped_column(
        ForeignKey("media.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(100), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class MediaPin(Base):
    """A hold on a media by something that will need its bytes (a scheduled or publishing
    post): while any is held the media cannot be deleted or purged. Written by whoever
    holds it (posts/), read here, so media needs to know nothing of posts."""

    __tablename__ = "media_pins"
    __table_args__ = (Index("ix_media_pins_holder", "holder_id"),)

    media_id: Mapped[str] = mapped_column(
        ForeignKey("media.id", ondelete="CASCADE"), primary_key=True
    )
    holder_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MediaReadiness(Base):
    """One network a media can go out to now: the rows `ready_for=` filters by."""

    __tablename__ = "media_readiness"
    __table_args__ = (Index("ix_media_readiness_platform", "platform", "media_id"),)

    media_id: Mapped[str] = mapped_column(
        ForeignKey("media.id", ondelete="CASCADE"), primary_key=True
    )
    platform: Mapped[str] = mapped_column(String(32), primary_key=True)


class PostCut(Base):
    """A file medialib cut from a media for one target of a post (a carousel item shown at
    the first item's ratio, cut around its subject rather than by the network around its
    centre). Its object lives beside the media's original; this row owns it (gc keeps
    and `/files` serves what a row names) and goes with its target (posts' table, named
    here by its table only: media knows nothing of posts)."""

    __tablename__ = "post_cuts"

    target_id: Mapped[str] = mapped_column(
        ForeignKey("post_targets.id", ondelete="CASCADE"), primary_key=True
    )
    media_id: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)
    key: Mapped[str] = mapped_column(String(400))
    content_type: Mapped[str] = mapped_column(String(100))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(BigInteger)
    checksum_sha256: Mapped[str] = mapped_column(String(64))
    crop: Mapped[dict[str, int] | None] = mapped_column(JSONType)  # of the upright original
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


@dataclasses.dataclass(frozen=True, slots=True)
class MediaView:
    """What a media's public object is made of (media/presenter.py): from a loaded row
    (`of`), or read straight from the table by the hottest read of the API
    (`MediaRepository.view`), which skips the ORM's loading of an instance, two thirds
    of that read's time."""

    id: str
    kind: str
    status: str
    filename: str
    content_type: str | None
    size: int | None
    storage_key: str
    width: int | None
    height: int | None
    duration_ms: int | None
    checksum_sha256: str | None
    description: str | None
    tenant_id: str | None
    media_metadata: dict[str, Any]
    usage_count: int
    error: dict[str, Any] | None
    thumbnail: DerivedFile | None
    display: DerivedFile | None
    framing: Framing | None
    duplicate_of: str | None
    ready_for: list[str] | None
    created_at: dt.datetime
    updated_at: dt.datetime
    expires_at: dt.datetime | None
    deleted_at: dt.datetime | None
    tag_names: list[str]

    @classmethod
    def of(cls, media: Media) -> MediaView:
        return cls.from_columns([getattr(media, name) for name in VIEW_COLUMNS], media.tag_names)

    @classmethod
    def from_columns(cls, values: Sequence[Any], tags: list[str]) -> MediaView:
        """`values`: the `VIEW_COLUMNS`, in order."""
        return cls(**dict(zip(VIEW_COLUMNS, values, strict=True)), tag_names=tags)


# The view's fields that are the row's columns (all but the tags), in order.
VIEW_COLUMNS = tuple(field.name for field in dataclasses.fields(MediaView))[:-1]
