"""The public media object (design §3) from a row."""

from __future__ import annotations

from medialib.media.models import IMAGE_KINDS, Media, MediaStatus, MediaView
from medialib.media.schemas import FramingOut, MediaOut, Thumbnail
from medialib.storage.base import ObjectBytes

_BYTES_AVAILABLE = (MediaStatus.PROCESSING, MediaStatus.READY)


def present(media: Media | MediaView, store: ObjectBytes) -> MediaOut:
    if isinstance(media, Media):
        media = MediaView.of(media)
    available = media.status in _BYTES_AVAILABLE
    metadata = dict(media.media_metadata or {})
    url = store.public_url(media.storage_key) if available else None
    content_type, size = media.content_type, media.size
    if available and media.display is not None:
        # HEIC/HEIF: the JPEG rendition is the usable form, and `url`, `content_type` and
        # `size` all describe it (a client that labels a network's upload with our type
        # must label the bytes it fetched); the original stays reachable, and described.
        metadata |= {
            "original_url": url,
            "original_content_type": content_type,
            "original_size": size,
        }
        url = store.public_url(media.display.key)
        content_type, size = media.display.content_type, media.display.size or size
    # Trashed media keeps its preview (the trash shows it), not its public URL.
    in_trash = media.status == MediaStatus.DELETED
    thumbnail = _thumbnail(media, store, url) if available or in_trash else None
    return MediaOut(
        id=media.id,
        kind=media.kind,
        filename=media.filename,
        content_type=content_type,
        size=size,
        status=media.status,
        width=media.width,
        height=media.height,
        duration_ms=media.duration_ms,
        checksum_sha256=media.checksum_sha256,
        tags=media.tag_names,
        description=media.description,
        tenant_id=media.tenant_id,
        metadata=metadata,
        url=url,
        thumbnail_url=thumbnail.url if thumbnail else None,
        thumbnail=thumbnail,
        usage_count=media.usage_count,
        framing=_framing(media),
        ready_for=media.ready_for if media.status == MediaStatus.READY else None,
        duplicate_of=media.duplicate_of,
        error=media.error,
        created_at=media.created_at,
        updated_at=media.updated_at,
        expires_at=media.expires_at,
        deleted_at=media.deleted_at,
    )


def _thumbnail(media: MediaView, store: ObjectBytes, url: str | None) -> Thumbnail | None:
    derived = media.thumbnail
    if derived is not None:
        return Thumbnail(
            url=store.public_url(derived.key),
            width=derived.width,
            height=derived.height,
            frame_time_ms=derived.frame_time_ms,
            source=derived.source,
        )
    if url and media.kind in IMAGE_KINDS:
        # Until its preview is made, a web-displayable image is its own preview.
        return Thumbnail(url=url, width=media.width, height=media.height, source="original")
    return None


def _framing(media: MediaView) -> FramingOut:
    framing = media.framing
    if framing is None:
        return FramingOut(fit="crop", focal_point=None)
    focal = (
        {"x": framing.focal_x, "y": framing.focal_y}
        if framing.focal_x is not None and framing.focal_y is not None
        else None
    )
    return FramingOut(fit=framing.fit, focal_point=focal)
