"""Which stored objects may be served at their public URLs (`/files/<key>`)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from medialib.media.models import MediaStatus, ScanStatus
from medialib.media.repository import MediaRepository
from medialib.workspaces.repository import WorkspaceRepository

_ORIGINAL_SERVED = (MediaStatus.PROCESSING, MediaStatus.READY)
# The trash shows previews, so derived files stay servable there.
_DERIVED_SERVED = (MediaStatus.PROCESSING, MediaStatus.READY, MediaStatus.DELETED)


def may_serve(session: Session, storage_key: str) -> bool:
    """An original only while its media is processing or ready and not waiting for its
    scan (never unconfirmed, unscanned or trashed bytes); a derived file also while the
    media is in the trash."""
    parts = storage_key.split("/")
    if len(parts) != 4:  # <workspace>/<media>/<token>/<file>
        return False
    media = MediaRepository(session).get_by_id(parts[1])
    if media is None or media.workspace_id != parts[0]:
        return False
    if not WorkspaceRepository(session).is_live(media.workspace_id):
        return False  # a deleted workspace's files, previews included, are served no more
    if storage_key == media.storage_key:
        return media.status in _ORIGINAL_SERVED and media.scan_status != ScanStatus.PENDING
    return storage_key in media.derived_keys and media.status in _DERIVED_SERVED
