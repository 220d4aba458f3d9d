"""The media library: read, search, edit, delete to the trash, restore, and usage.

Services flush; the request boundary commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from medialib.config import Settings
from medialib.db import utcnow
from medialib.errors import InvalidState, MediaInUse, NotFound, ValidationFailed
from medialib.media.models import Media, MediaStatus, MediaView
from medialib.media.paging import After, decode_cursor, encode_cursor
from medialib.media.records import Framing
from medialib.media.repository import MediaRepository
from medialib.media.schemas import MAX_TAGS, MediaFilters, MediaUpdate, SortOrder
from medialib.media.transitions import Transitions
from medialib.processing.filenames import clean_filename
from medialib.webhooks.events import EventType
from medialib.workspaces.models import Workspace
from medialib.workspaces.repository import WorkspaceRepository
from medialib.workspaces.service import TRASH_KEEPS, retention_expiry


@dataclass(frozen=True, slots=True)
class MediaPage:
    items: list[Media]
    total: int  # of the whole list, counted up to `list_total_exact_max`
    total_exact: bool
    next_cursor: str | None


def _after(media: Media, sort: SortOrder) -> After:
    return After(
        sort,
        media.created_at,
        media.id,
        name=media.filename.lower(),
        usage_count=media.usage_count,
    )


class MediaLibrary:
    def __init__(self, session: Session, *, settings: Settings) -> None:
        self.session = session
        self.settings = settings
        self.repository = MediaRepository(session)
        self.transitions = Transitions(session, settings)

    def get(self, workspace: Workspace, media_id: str) -> Media:
        media = self.repository.get(workspace.id, media_id)
        if media is None or media.status == MediaStatus.DELETED:
            raise NotFound("No such media.")
        return media

    def view(self, workspace: Workspace, media_id: str) -> MediaView:
        """`get`, read for presenting only (see `MediaView`)."""
        media = self.repository.view(workspace.id, media_id)
        if media is None or media.status == MediaStatus.DELETED:
            raise NotFound("No such media.")
        return media

    def search(
        self,
        workspace: Workspace,
        filters: MediaFilters,
        *,
        limit: int,
        offset: int,
        cursor: str | None = None,
    ) -> MediaPage:
        """A page of the list, and the cursor of the next one (None: the last page)."""
        if filters.q is not None and not any(char.isalnum() for char in filters.q):
            # Neither search index can look up punctuation alone (PostgreSQL's trigrams
            # skip it: every row would be read), and names are not found by it.
            raise ValidationFailed("A search needs at least one letter or digit.", field="q")
        after = decode_cursor(cursor, filters.sort) if cursor is not None else None
        if after is not None and offset:
            raise ValidationFailed("Give `cursor` or `offset`, not both.", field="cursor")
        rows, total, exact = self.repository.search(
            workspace.id,
            filters,
            limit=limit,
            offset=offset,
            after=after,
            count_up_to=self.settings.list_total_exact_max,
        )
        items = rows[:limit]
        more = len(rows) > limit
        next_cursor = encode_cursor(_after(items[-1], filters.sort)) if more else None
        return MediaPage(items, total, exact, next_cursor)

    def update(self, workspace: Workspace, media_id: str, changes: MediaUpdate) -> Media:
        media = self.get(workspace, media_id)
        if changes.filename is not None:
            media.filename = clean_filename(changes.filename)
        if "description" in changes.model_fields_set:
            media.description = changes.description
        if changes.tags is not None:
            self.repository.replace_tags(media, changes.tags)
        if changes.framing is not None:
            focal = changes.framing.focal_point
            media.framing = Framing(
                fit=changes.framing.fit,
                focal_x=focal.x if focal else None,
                focal_y=focal.y if focal else None,
            )
        media.updated_at = utcnow()
        self.session.flush()
        if changes.framing is not None:
            # Variants follow the new framing; the job finds out whether they are stale.
            self.transitions.enqueue_variants(media, again=True)
        return media

    def delete(self, workspace: Workspace, media_id: str) -> Media:
        """Move to the trash; the bytes stay until the trash is purged."""
        media = self.repository.get_for_update(workspace.id, media_id)
        if media is None or media.status == MediaStatus.DELETED:
            raise NotFound("No such media.")
        holders = self.repository.pin_holders(media.id)
        if holders:
            raise MediaInUse(post_ids=holders)
        media.status_before_delete = media.status
        media.status = MediaStatus.DELETED
        media.deleted_at = utcnow()
        media.expires_at = media.deleted_at + TRASH_KEEPS
        self.transitions.emit(EventType.MEDIA_DELETED, media)
        self.session.flush()
        return media

    def delete_many(
        self, workspace: Workspace, media_ids: list[str]
    ) -> tuple[list[str], list[str], list[str]]:
        """Move each to the trash; ids that are missing (or not this workspace's), and ids
        a scheduled post uses, are listed instead."""
        deleted, not_found, in_use = [], [], []
        for media_id in dict.fromkeys(media_ids):
            try:
                deleted.append(self.delete(workspace, media_id).id)
            except NotFound:
                not_found.append(media_id)
            except MediaInUse:
                in_use.append(media_id)
        return deleted, not_found, in_use

    def tag_many(
        self, workspace: Workspace, media_ids: list[str], *, add: list[str], remove: list[str]
    ) -> tuple[list[str], list[str]]:
        """Add and remove tags on each (a tag already there is not added twice; removing
        ignores case); the ids updated, and those missing or not this workspace's."""
        updated, not_found = [], []
        gone = {tag.lower() for tag in remove}
        for media_id in dict.fromkeys(media_ids):
            try:
                media = self.get(workspace, media_id)
            except NotFound:
                not_found.append(media_id)
                continue
            kept = [tag for tag in media.tag_names if tag.lower() not in gone]
            have = {tag.lower() for tag in kept}
            tags = [*kept, *(tag for tag in add if tag.lower() not in have)]
            if len(tags) > MAX_TAGS:
                raise ValidationFailed(
                    f"{media.filename} would have {len(tags)} tags; at most {MAX_TAGS}.",
                    field="add",
                )
            if tags != media.tag_names:
                self.repository.replace_tags(media, tags)
                media.updated_at = utcnow()
            updated.append(media.id)
        self.session.flush()
        return updated, not_found

    def restore(self, workspace: Workspace, media_id: str) -> Media:
        """Take media out of the trash, back to the state it was deleted in."""
        media = self.repository.get_for_update(workspace.id, media_id)
        if media is None:
            raise NotFound("No such media.")
        if media.status != MediaStatus.DELETED:
            raise InvalidState("The media is not in the trash.", status=media.status)
        media.status = media.status_before_delete or MediaStatus.READY
        media.status_before_delete = None
        media.deleted_at = None
        retention = WorkspaceRepository(self.session).retention_days(workspace.id)
        media.expires_at = retention_expiry(retention, media.created_at)
        media.expiry_notified_at = None
        self.session.flush()
        return media

    def trash(self, workspace: Workspace, *, limit: int, offset: int) -> tuple[list[Media], int]:
        return self.repository.trash(workspace.id, limit=limit, offset=offset)

    def usage(self, workspace: Workspace) -> dict[str, tuple[int, int]]:
        """(count, bytes) per kind of everything the workspace keeps, trash included."""
        return self.repository.usage(workspace.id)
