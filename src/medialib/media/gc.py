"""Garbage collection: uploads never confirmed, expired resumable uploads, trash past 30
days, temporary files."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session, sessionmaker

from medialib.config import Settings
from medialib.db import session_scope, utcnow
from medialib.idempotency.repository import IdempotencyKeys
from medialib.media.repository import MediaRepository
from medialib.media.service import TRASH_KEEPS, derived_keys_of
from medialib.storage.base import ObjectStore
from medialib.storage.local import LocalObjectStore
from medialib.uploads.resumable import ResumableUploads
from medialib.webhooks.outbox import emit, event_data

# An upload URL lives an hour; its pending row is removed a day after that.
ABANDONED_AFTER = dt.timedelta(days=1)


def collect_garbage(
    factory: sessionmaker[Session], store: ObjectStore, settings: Settings
) -> dict[str, int]:
    removed_uploads = 0
    with session_scope(factory) as session:
        repository = MediaRepository(session)
        for media in repository.abandoned_uploads(before=utcnow() - ABANDONED_AFTER):
            store.delete(media.storage_key)
            repository.remove(media)
            removed_uploads += 1
    purged = 0
    with session_scope(factory) as session:
        repository = MediaRepository(session)
        for media in repository.trash_older_than(utcnow() - TRASH_KEEPS):
            for key in derived_keys_of(media):
                store.delete(key)
            purged_event = {**event_data(media), "status": "purged"}
            emit(session, settings, media.workspace_id, "media.purged", purged_event)
            store.delete(media.storage_key)
            repository.remove(media)
            purged += 1
    with session_scope(factory) as session:
        expired_resumable = ResumableUploads(
            session, store=store, settings=settings
        ).remove_expired()
    expired_keys = IdempotencyKeys(factory).remove_expired()
    removed_temp = 0
    if isinstance(store, LocalObjectStore):
        removed_temp = store.sweep_temporary(older_than=ABANDONED_AFTER)
        idle_limit = dt.timedelta(seconds=settings.resumable_ttl_seconds) + ABANDONED_AFTER
        removed_temp += store.partials.sweep(older_than=idle_limit)
    return {
        "abandoned_uploads": removed_uploads,
        "purged_from_trash": purged,
        "expired_resumable_uploads": expired_resumable,
        "expired_idempotency_keys": expired_keys,
        "temporary_files": removed_temp,
    }
