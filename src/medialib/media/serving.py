"""Which stored objects may be served at their public URLs (`/files/<key>`)."""

from __future__ import annotations

from dataclasses import dataclass

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
    return servable(session, storage_key) is not None


@dataclass(frozen=True, slots=True)
class Servable:
    # The type the bytes are: an original's as sniffed at intake (an APNG declared as
    # image/png is served as image/apng); None for files medialib wrote, stored as made.
    content_type: str | None


def servable(session: Session, storage_key: str) -> Servable | None:
    """How a stored file may be served, or None when it may not (see `may_serve`)."""
    parts = storage_key.split("/")
    if len(parts) != 4:  # <workspace>/<media>/<token>/<file>
        return None
    media = MediaRepository(session).get_by_id(parts[1])
    if media is None or media.workspace_id != parts[0]:
        return None
    if not WorkspaceRepository(session).is_live(media.workspace_id):
        return None  # a deleted workspace's files, previews included, are served no more
    if storage_key == media.storage_key:
        if media.status in _ORIGINAL_SERVED and media.scan_status != ScanStatus.PENDING:
            return Servable(media.content_type)
        return None
    if media.status not in _DERIVED_SERVED:
        return None
    if storage_key in media.derived_keys or MediaRepository(session).is_cut(media.id, storage_key):
        return Servable(None)  # a file medialib made: stored as made
    return None
