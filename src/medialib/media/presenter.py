"""The public media object (design §3) from a row."""

from __future__ import annotations

from medialib.media.models import Media, MediaStatus
from medialib.media.schemas import MediaOut, Thumbnail
from medialib.storage.base import ObjectStore

_BYTES_AVAILABLE = (MediaStatus.PROCESSING, MediaStatus.READY)


def present(media: Media, store: ObjectStore) -> MediaOut:
    url = store.public_url(media.storage_key) if media.status in _BYTES_AVAILABLE else None
    thumbnail = None
    if url and media.kind in ("image", "gif") and media.status == MediaStatus.READY:
        # Until derived previews exist (processing issue), a still image is its own preview.
        thumbnail = Thumbnail(url=url, width=media.width, height=media.height, source="original")
    return MediaOut(
        id=media.id,
        kind=media.kind,
        filename=media.filename,
        content_type=media.content_type,
        size=media.size,
        status=media.status,
        width=media.width,
        height=media.height,
        duration_ms=media.duration_ms,
        checksum_sha256=media.checksum_sha256,
        tags=media.tag_names,
        description=media.description,
        tenant_id=media.tenant_id,
        metadata=media.media_metadata or {},
        url=url,
        thumbnail_url=thumbnail.url if thumbnail else None,
        thumbnail=thumbnail,
        usage_count=media.usage_count,
        error=media.error,
        created_at=media.created_at,
        updated_at=media.updated_at,
        expires_at=media.expires_at,
        deleted_at=media.deleted_at,
    )
