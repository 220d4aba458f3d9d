"""Whether a media's variants are current, asking for fresh ones, and keeping what a job
made. The one freshness rule lives here (`is_current`); posts, the publisher, the
variants route and the job all ask it.

Services flush; their boundary commits.
"""

from __future__ import annotations

import hashlib

from sqlalchemy.orm import Session

from medialib.config import Settings
from medialib.media.models import Media, MediaKind, MediaStatus
from medialib.media.records import Variant
from medialib.media.repository import MediaRepository
from medialib.media.transitions import VARIANTS_JOB, Transitions
from medialib.platforms.rules import Catalog, catalog
from medialib.workspaces.models import Workspace


def variants_key_for(media: Media, rules: Catalog | None = None) -> str:
    """What a media's variants are made from: its bytes, the rules in force and how the
    user wants it fitted. Variants made under another key are stale."""
    framing = media.framing.model_dump_json() if media.framing is not None else ""
    framed = hashlib.sha256(framing.encode()).hexdigest()[:8]
    checksum = (media.checksum_sha256 or media.id)[:32]
    return f"{checksum}:{(rules or catalog()).version}:{framed}"


def is_current(media: Media, rules: Catalog | None = None) -> bool:
    """The freshness rule: variants were made, from these bytes, under these rules, for
    this framing."""
    return media.variants is not None and media.variants_key == variants_key_for(media, rules)


class VariantService:
    def __init__(self, session: Session, *, settings: Settings) -> None:
        self.session = session
        self.media = MediaRepository(session)
        self.transitions = Transitions(session, settings)

    def stale(self, media: Media) -> bool:
        """Variants were made, but not for what the media is now, so new ones are due."""
        if media.status != MediaStatus.READY or not media.gets_variants:
            return False
        if media.variants is None:
            return False  # its first variants are on their way
        return not is_current(media)

    def due(self, media: Media) -> bool:
        """Stale, and fresh ones not asked for yet (read without a lock: `refresh` checks
        again under one)."""
        return self.stale(media) and media.variants_requested != variants_key_for(media)

    def refresh(self, media: Media) -> bool:
        """Queue new variants when they are stale: once per key, however many ask. True
        when they are stale. `media` is locked in this session's transaction."""
        if not self.stale(media):
            return False
        key = variants_key_for(media)
        if media.variants_requested != key:
            from medialib.variants import readiness  # it reads choice.py, which reads this

            media.variants_requested = key
            self.transitions.enqueue(VARIANTS_JOB[MediaKind(media.network_kind)], media)
            readiness.record(self.session, media)  # stale variants go out nowhere
            self.session.flush()
        return True

    def request_fresh(self, workspace: Workspace, media_id: str) -> None:
        """`refresh` for a media that was read elsewhere: locked and read again here, in
        this session's (writing) transaction."""
        media = self.media.get_for_update(workspace.id, media_id)
        if media is not None:
            self.refresh(media)

    def keep(self, media: Media, variants: list[Variant], key: str) -> list[str] | None:
        """Keep the variants made for `key`; the keys of the files they replace, for the
        caller to remove once this is committed. None when they are not wanted (the media
        moved on, or has variants for this key already)."""
        if media.status != MediaStatus.READY:
            return None
        if media.variants is not None and media.variants_key == key:
            return None
        replaced = [variant.key for variant in media.variants or []]
        media.variants = variants
        media.variants_key = key
        self.session.flush()
        return replaced
