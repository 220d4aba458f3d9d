"""Garbage collection: uploads that were never confirmed, and temporary files."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session, sessionmaker

from medialib.db import session_scope, utcnow
from medialib.media.repository import MediaRepository
from medialib.storage.base import ObjectStore
from medialib.storage.local import LocalObjectStore

# An upload URL lives an hour; its pending row is removed a day after that.
ABANDONED_AFTER = dt.timedelta(days=1)


def collect_garbage(factory: sessionmaker[Session], store: ObjectStore) -> dict[str, int]:
    removed_uploads = 0
    with session_scope(factory) as session:
        repository = MediaRepository(session)
        for media in repository.abandoned_uploads(before=utcnow() - ABANDONED_AFTER):
            store.delete(media.storage_key)
            repository.remove(media)
            removed_uploads += 1
    removed_temp = 0
    if isinstance(store, LocalObjectStore):
        removed_temp = store.sweep_temporary(older_than=ABANDONED_AFTER)
    return {"abandoned_uploads": removed_uploads, "temporary_files": removed_temp}
