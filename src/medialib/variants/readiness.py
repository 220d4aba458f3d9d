"""Which networks a media can go out to now, kept as a fact: `media.ready_for` (shown in
the API and the grid) and `media_readiness` rows (what `GET /v1/media?ready_for=` filters
by). A network counts when the plan would send it a file today: the original where it is
taken as it is, a variant where one is needed and current. Written when a media's
variants are kept, when they go stale (only what is taken as it is stays), and for media
from before this was kept, a few hundred at a time by `backfill`.
"""

from __future__ import annotations

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session, sessionmaker

from medialib.db import session_scope
from medialib.media.models import Media, MediaReadiness, MediaStatus
from medialib.platforms.rules import catalog
from medialib.variants.choice import choose


def ready_networks(media: Media) -> list[str]:
    """The networks the plan would send a file to now (in the catalog's order)."""
    if media.status != MediaStatus.READY:
        return []
    return [network.id for network in catalog() if choose(network, None, media).file is not None]


def record(session: Session, media: Media) -> list[str]:
    """Work out and keep `media`'s readiness (in this session's transaction)."""
    ready = ready_networks(media)
    if media.ready_for == ready:
        return ready
    media.ready_for = ready
    session.execute(delete(MediaReadiness).where(MediaReadiness.media_id == media.id))
    if ready:
        session.execute(
            insert(MediaReadiness), [{"media_id": media.id, "platform": p} for p in ready]
        )
    session.flush()
    return ready


def backfill(factory: sessionmaker[Session], *, batch: int = 200, batches: int = 50) -> int:
    """Readiness for ready media that have none yet (made before it was kept), `batch` a
    transaction, at most `batches` of them; how many. Processes that run it at once take
    different rows (SKIP LOCKED on PostgreSQL; SQLite writes one at a time anyway)."""
    done = 0
    for _ in range(batches):
        with session_scope(factory) as session:
            found = session.scalars(
                select(Media)
                .where(Media.status == MediaStatus.READY, Media.ready_for.is_(None))
                .limit(batch)
                .with_for_update(skip_locked=True)
            ).all()
            for media in found:
                record(session, media)
        done += len(found)
        if len(found) < batch:
            break
    return done
