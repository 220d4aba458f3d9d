"""Garbage collection, a flow across the domains: uploads never confirmed, expired
resumable uploads, trash past 30 days, media past its workspace's retention (announced a
week ahead), expired idempotency keys, and what interrupted writes left in the store.
`medialib gc` runs it; run it from cron (hourly is plenty)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from medialib.config import Settings
from medialib.db import session_scope, utcnow
from medialib.idempotency.service import IdempotencyKeys
from medialib.media.models import Media
from medialib.media.repository import MediaRepository
from medialib.media.service import TRASH_KEEPS
from medialib.runtime import Runtime
from medialib.storage.base import ObjectStore
from medialib.uploads.resumable import ResumableUploads
from medialib.webhooks.events import EventType
from medialib.webhooks.outbox import emit, event_data

# An upload URL lives an hour; its pending row is removed a day after that.
ABANDONED_AFTER = dt.timedelta(days=1)
# `media.expiring` goes out this long before retention purges a media.
EXPIRING_NOTICE = dt.timedelta(days=7)


def collect_garbage(runtime: Runtime, *, now: dt.datetime | None = None) -> dict[str, int]:
    """`now`: the moment to collect rows as of (tests pass a later one to see time pass)."""
    factory, store, settings = runtime.session_factory, runtime.store, runtime.settings
    now = now or utcnow()
    removed_uploads = 0
    with session_scope(factory) as session:
        repository = MediaRepository(session)
        for media in repository.abandoned_uploads(before=now - ABANDONED_AFTER):
            store.delete(media.storage_key)
            repository.remove(media)
            removed_uploads += 1
    purged = 0
    with session_scope(factory) as session:
        repository = MediaRepository(session)
        for media in repository.trash_older_than(now - TRASH_KEEPS):
            _purge(session, settings, store, media)
            purged += 1
    announced, retention_purged = _retention(runtime, now)
    with session_scope(factory) as session:
        expired_resumable = ResumableUploads(
            session, store=store, settings=settings
        ).remove_expired(now=now)
    expired_keys = IdempotencyKeys(factory).remove_expired(now=now)
    # Files are judged by their own times on the process's clock, never by `now`: a file
    # being written at this moment must not look abandoned.
    removed_temp = store.sweep(older_than=ABANDONED_AFTER)
    idle_limit = dt.timedelta(seconds=settings.resumable_ttl_seconds) + ABANDONED_AFTER
    removed_temp += store.partials.sweep(older_than=idle_limit)
    return {
        "abandoned_uploads": removed_uploads,
        "purged_from_trash": purged,
        "announced_expiring": announced,
        "purged_by_retention": retention_purged,
        "expired_resumable_uploads": expired_resumable,
        "expired_idempotency_keys": expired_keys,
        "temporary_files": removed_temp,
    }


def _retention(runtime: Runtime, now: dt.datetime) -> tuple[int, int]:
    """Announce media whose retention ends within a week (`media.expiring`, once), and
    purge media whose retention has ended, unless a scheduled post still uses it."""
    factory, store, settings = runtime.session_factory, runtime.store, runtime.settings
    with session_scope(factory) as session:
        repository = MediaRepository(session)
        expiring = repository.expiring(before=now + EXPIRING_NOTICE)
        for media in expiring:
            expires_at = media.expires_at.isoformat() if media.expires_at else None
            data = {**event_data(media), "expires_at": expires_at}
            emit(session, settings, media.workspace_id, EventType.MEDIA_EXPIRING, data)
            media.expiry_notified_at = now
    purged = 0
    with session_scope(factory) as session:
        repository = MediaRepository(session)
        for media in repository.retention_over(now=now):
            if repository.scheduled_posts_using(media.id):
                continue  # kept while a scheduled post needs it
            _purge(session, settings, store, media)
            purged += 1
    return len(expiring), purged


def _purge(session: Session, settings: Settings, store: ObjectStore, media: Media) -> None:
    """The bytes, every derived file and the row go; `media.purged` says so."""
    for key in media.derived_keys:
        store.delete(key)
    store.delete(media.storage_key)
    emit(
        session,
        settings,
        media.workspace_id,
        EventType.MEDIA_PURGED,
        {**event_data(media), "status": "purged"},
    )
    MediaRepository(session).remove(media)
