"""The media lifecycle: request an upload, confirm it, read, list, edit, delete.

Services flush; the request or job boundary commits. Confirm is one atomic transition:
the media row is locked (PostgreSQL `FOR UPDATE`, SQLite `BEGIN IMMEDIATE`), so parallel
confirms queue behind the first and then read its outcome instead of redoing it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from medialib.config import Settings
from medialib.db import utcnow
from medialib.errors import (
    InvalidState,
    MediaInUse,
    MedialibError,
    NotFound,
    PayloadTooLarge,
    QuotaExceeded,
    UploadMissing,
    ValidationFailed,
    error_from_dict,
)
from medialib.ids import new_id, new_token
from medialib.jobs.names import JobName
from medialib.jobs.queue import enqueue
from medialib.media import intake
from medialib.media.derivatives import Derivatives, sibling_key
from medialib.media.models import CONFIRMABLE, Media, MediaKind, MediaStatus
from medialib.media.repository import MediaFilters, MediaRepository
from medialib.media.schemas import MediaUpdate, UploadRequest
from medialib.platforms.verdicts import Facts, Verdict, judge_all
from medialib.processing import sniff
from medialib.processing.filenames import clean_filename
from medialib.scanning.clamd import ScanVerdict
from medialib.scanning.service import (
    SCAN_CLEAN,
    SCAN_OFF,
    SCAN_PENDING,
    refuse_unclean,
    scan_object,
)
from medialib.storage.base import ObjectStore, UploadGrant, UploadTarget
from medialib.webhooks.outbox import emit, event_data
from medialib.workspaces.models import Workspace
from medialib.workspaces.repository import WorkspaceRepository

TRASH_KEEPS = dt.timedelta(days=30)
CONFIRM_STAGE = "confirm"
PROCESSING_STAGE = "processing"
SCAN_STAGE = "scan"

# The job that makes an asset's derived files, by kind.
_PROCESS_JOB = {
    MediaKind.IMAGE: JobName.PROCESS_IMAGE,
    MediaKind.GIF: JobName.PROCESS_IMAGE,
    MediaKind.VIDEO: JobName.PROCESS_AV,
    MediaKind.AUDIO: JobName.PROCESS_AV,
    MediaKind.DOCUMENT: JobName.PROCESS_DOCUMENT,
}
# Usable as soon as confirmed (their preview follows); the rest waits for its job.
_READY_AT_CONFIRM_TYPES = frozenset(
    {"image/jpeg", "image/png", "image/webp", "image/gif", "image/avif"}
)


@dataclass(frozen=True, slots=True)
class ConfirmOutcome:
    media: Media
    # Set when intake refused the upload: the transition to `failed` is kept (commit it),
    # then the error is the answer.
    error: MedialibError | None = None


@dataclass(frozen=True, slots=True)
class NewUpload:
    media: Media
    target: UploadTarget


def infer_kind(*, kind: MediaKind | None, content_type: str | None, filename: str) -> MediaKind:
    if kind is not None:
        return kind
    for mime in (sniff.normalise_mime(content_type), sniff.mime_from_filename(filename)):
        found = sniff.kind_of(mime or "")
        if found:
            return MediaKind(found)
    raise ValidationFailed(
        "Cannot tell the kind of media from the name or content_type; pass `kind`.",
        field="kind",
    )


def retention_expiry(days: int | None, start: dt.datetime) -> dt.datetime | None:
    """When media made at `start` is purged under a retention of `days` (None: never)."""
    return start + dt.timedelta(days=days) if days else None


def derived_keys_of(media: Media) -> list[str]:
    """Every file made from a media's original: previews, renditions, variants."""
    derived = [media.thumbnail, media.display, *(media.variants or [])]
    return [item["key"] for item in derived if item]


def storage_key_for(workspace_id: str, media_id: str) -> str:
    """Server-made and unguessable: the user's filename never reaches a path."""
    return f"{workspace_id}/{media_id}/{new_token()}/original"


class MediaService:
    def __init__(self, session: Session, *, store: ObjectStore, settings: Settings) -> None:
        self.session = session
        self.store = store
        self.settings = settings
        self.repository = MediaRepository(session)

    def new_media(
        self,
        workspace: Workspace,
        *,
        filename: str,
        kind: MediaKind,
        content_type: str,
        size: int | None = None,
        tenant_id: str | None = None,
        tags: list[str] | None = None,
        description: str | None = None,
        media_id: str | None = None,
        storage_key: str | None = None,
    ) -> Media:
        """A `pending_upload` media row; its id and key are made here unless given."""
        cap = self.settings.kind_cap(kind)
        if size is not None and size > cap:
            raise PayloadTooLarge(f"A {kind} may be at most {cap} bytes.", max_bytes=cap, size=size)
        media_id = media_id or new_id("med")
        media = Media(
            id=media_id,
            workspace_id=workspace.id,
            kind=kind,
            status=MediaStatus.PENDING_UPLOAD,
            filename=clean_filename(filename),
            declared_content_type=content_type,
            declared_size=size,
            storage_key=storage_key or storage_key_for(workspace.id, media_id),
            tenant_id=tenant_id,
            description=description,
            media_metadata={},
            tags=[],
            expires_at=retention_expiry(workspace.retention_days, utcnow()),
        )
        self.repository.add(media)
        if tags:
            self.repository.replace_tags(media, tags)
        return media

    def media_for_request(self, workspace: Workspace, request: UploadRequest) -> Media:
        """The `pending_upload` media an upload request asks for: its kind inferred, its
        size checked against the kind's cap and the workspace's quota."""
        kind = infer_kind(
            kind=request.kind, content_type=request.content_type, filename=request.filename
        )
        self.check_quota(workspace, adding=request.size or 0)
        content_type = (
            request.content_type
            or sniff.mime_from_filename(request.filename)
            or "application/octet-stream"
        )
        return self.new_media(
            workspace,
            filename=request.filename,
            kind=kind,
            content_type=content_type,
            size=request.size,
            tenant_id=request.tenant_id,
            tags=request.tags,
            description=request.description,
        )

    def request_upload(self, workspace: Workspace, request: UploadRequest) -> NewUpload:
        media = self.media_for_request(workspace, request)
        expires_at = (
            utcnow() + dt.timedelta(seconds=self.settings.upload_url_ttl_seconds)
        ).replace(microsecond=0)
        media.upload_expires_at = expires_at
        cap = request.size if request.size is not None else self.settings.kind_cap(media.kind)
        grant = UploadGrant(
            key=media.storage_key,
            workspace_id=workspace.id,
            content_type=media.declared_content_type,
            max_bytes=cap,
            expires_at=expires_at,
            size=request.size,
        )
        return NewUpload(media=media, target=self.store.upload_target(grant))

    def scan_then_confirm(self, workspace: Workspace, media_id: str) -> ConfirmOutcome:
        """Confirm, scanning the bytes first. The scan runs outside any transaction (it
        takes time, and on SQLite a transaction holds the write lock): this commits."""
        if not self.settings.clamd_url:
            return self.confirm(workspace, media_id)  # scanning off: no extra read
        media = self.repository.get(workspace.id, media_id)
        key = media.storage_key if media is not None and media.status in CONFIRMABLE else None
        self.session.commit()
        verdict = scan_object(self.settings, self.store, key) if key else None
        return self.confirm(workspace, media_id, scan=verdict)

    def confirm(
        self, workspace: Workspace, media_id: str, *, scan: ScanVerdict | None = None
    ) -> ConfirmOutcome:
        """`scan`: the verdict on the bytes, when they were scanned before (see
        `scan_then_confirm`); with scanning on and no verdict, the processing job scans."""
        media = self.repository.get_for_update(workspace.id, media_id)
        if media is None or media.status == MediaStatus.DELETED:
            raise NotFound("No such media.")
        if media.status not in CONFIRMABLE:
            return self._earlier_outcome(media)
        info = self.store.stat(media.storage_key)
        if info is None:
            raise UploadMissing()
        try:
            self._check_quota_locked(workspace, media, info.size)
            result = intake.inspect(
                self.store,
                key=media.storage_key,
                info=info,
                kind=media.kind,
                declared_content_type=media.declared_content_type,
                filename=media.filename,
                cap=self.settings.kind_cap(media.kind),
                max_pixels=self.settings.image_max_pixels,
            )
            refuse_unclean(scan)
        except MedialibError as refusal:
            self._fail(media, refusal, stage=CONFIRM_STAGE, size=info.size)
            self.store.delete(media.storage_key)
            return ConfirmOutcome(media=media, error=refusal)
        self._accept(media, result, scan_status=self._scan_status(scan))
        return ConfirmOutcome(media=media)

    def _scan_status(self, scan: ScanVerdict | None) -> str:
        if not self.settings.clamd_url:
            return SCAN_OFF
        return SCAN_CLEAN if scan is not None else SCAN_PENDING

    def check_quota(self, workspace: Workspace, *, adding: int) -> None:
        """Refuse early (on an upload request) what could not fit; confirm checks again."""
        quota = WorkspaceRepository(self.session).get_quota(workspace.id)
        if quota is None:
            return
        used = self.repository.bytes_kept(workspace.id)
        # A size not declared yet needs at least some room.
        if used + max(adding, 1) > quota:
            raise QuotaExceeded(quota_bytes=quota, used_bytes=used, size=adding)

    def _check_quota_locked(self, workspace: Workspace, media: Media, size: int) -> None:
        quota = WorkspaceRepository(self.session).quota_for_update(workspace.id)
        if quota is None:
            return
        used = self.repository.bytes_kept(workspace.id, exclude_id=media.id)
        if used + size > quota:
            raise QuotaExceeded(quota_bytes=quota, used_bytes=used, size=size)

    def _earlier_outcome(self, media: Media) -> ConfirmOutcome:
        if media.status == MediaStatus.FAILED and media.failed_stage == CONFIRM_STAGE:
            return ConfirmOutcome(media=media, error=error_from_dict(media.error or {}))
        return ConfirmOutcome(media=media)

    def _accept(self, media: Media, result: intake.IntakeResult, *, scan_status: str) -> None:
        media.size = result.size
        media.checksum_sha256 = result.sha256
        media.content_type = result.content_type
        media.width, media.height = result.width, result.height
        media.media_metadata = {**result.metadata, "scan": {"status": scan_status}}
        earlier = None
        if scan_status != SCAN_PENDING:  # unscanned bytes are never passed off as done
            earlier = self.repository.processed_duplicate(
                media.workspace_id,
                checksum_sha256=result.sha256,
                kind=media.kind,
                exclude_id=media.id,
            )
        if earlier is not None:
            self._reuse_processing(media, earlier)
        else:
            ready_now = (
                result.content_type in _READY_AT_CONFIRM_TYPES and scan_status != SCAN_PENDING
            )
            media.status = MediaStatus.READY if ready_now else MediaStatus.PROCESSING
            self._enqueue(_PROCESS_JOB[MediaKind(media.kind)], media)
        if media.status == MediaStatus.READY:
            self._emit("media.ready", media)
        self.session.flush()

    def _reuse_processing(self, media: Media, earlier: Media) -> None:
        """The same bytes were processed before: link their derived files, skip the work."""
        media.duplicate_of = earlier.id
        media.width, media.height, media.duration_ms = (
            earlier.width,
            earlier.height,
            earlier.duration_ms,
        )
        media.media_metadata = {
            **(earlier.media_metadata or {}),
            "scan": media.media_metadata["scan"],
        }
        media.thumbnail = self._copy_derived(earlier.thumbnail, media)
        media.display = self._copy_derived(earlier.display, media)
        if earlier.variants is not None:
            media.variants = [self._copy_derived(v, media) or v for v in earlier.variants]
        else:
            self._enqueue_variants(media)
        media.status = MediaStatus.READY

    def _copy_derived(self, derived: dict[str, Any] | None, media: Media) -> dict[str, Any] | None:
        if not derived:
            return None
        key = sibling_key(derived["key"], media.storage_key)
        self.store.copy(derived["key"], key)
        return {**derived, "key": key}

    def _emit(self, event_type: str, media: Media) -> None:
        """Queue a webhook event about `media` in this transaction (see webhooks/)."""
        emit(self.session, self.settings, media.workspace_id, event_type, event_data(media))

    def _enqueue(self, name: JobName, media: Media) -> None:
        enqueue(self.session, name, max_attempts=self.settings.job_max_attempts, media_id=media.id)

    def _fail(
        self, media: Media, error: MedialibError, *, stage: str, size: int | None = None
    ) -> None:
        media.status = MediaStatus.FAILED
        media.failed_stage = stage
        media.error = error.to_dict()
        if size is not None:
            media.size = size
        self._emit("media.failed", media)
        self.session.flush()

    def get(self, workspace: Workspace, media_id: str) -> Media:
        media = self.repository.get(workspace.id, media_id)
        if media is None or media.status == MediaStatus.DELETED:
            raise NotFound("No such media.")
        return media

    def search(
        self, workspace: Workspace, filters: MediaFilters, *, limit: int, offset: int
    ) -> tuple[list[Media], int]:
        return self.repository.search(workspace.id, filters, limit=limit, offset=offset)

    def update(self, workspace: Workspace, media_id: str, changes: MediaUpdate) -> Media:
        media = self.get(workspace, media_id)
        if changes.filename is not None:
            media.filename = clean_filename(changes.filename)
        if "description" in changes.model_fields_set:
            media.description = changes.description
        if changes.tags is not None:
            self.repository.replace_tags(media, changes.tags)
        media.updated_at = utcnow()
        self.session.flush()
        return media

    def delete(self, workspace: Workspace, media_id: str) -> Media:
        """Move to trash; the bytes stay until the trash is purged."""
        media = self.repository.get_for_update(workspace.id, media_id)
        if media is None or media.status == MediaStatus.DELETED:
            raise NotFound("No such media.")
        scheduled = self.repository.scheduled_posts_using(media.id)
        if scheduled:
            raise MediaInUse(post_ids=scheduled)
        media.status_before_delete = media.status
        media.status = MediaStatus.DELETED
        media.deleted_at = utcnow()
        media.expires_at = media.deleted_at + TRASH_KEEPS
        self._emit("media.deleted", media)
        self.session.flush()
        return media

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
        media.expires_at = retention_expiry(workspace.retention_days, media.created_at)
        media.expiry_notified_at = None
        self.session.flush()
        return media

    def trash(self, workspace: Workspace, *, limit: int, offset: int) -> tuple[list[Media], int]:
        return self.repository.trash(workspace.id, limit=limit, offset=offset)

    def request_thumbnail(
        self, workspace: Workspace, media_id: str, request: dict[str, Any]
    ) -> Media:
        """Ask for a new preview: a frame (`frame_time_ms`), another image of the workspace
        (`source_media_id`), or `{}` for the default. The media is `processing` until the
        job has run. Idempotent: the same request while it runs answers the same."""
        media = self.repository.get_for_update(workspace.id, media_id)
        if media is None or media.status == MediaStatus.DELETED:
            raise NotFound("No such media.")
        if media.status == MediaStatus.PROCESSING and media.thumbnail_request == request:
            return media  # the same request is running
        current = media.thumbnail
        if media.status == MediaStatus.READY and current and current.get("request", {}) == request:
            return media  # what was asked for is already the preview
        if media.status != MediaStatus.READY:
            raise InvalidState(
                f"A thumbnail can be made for ready media; this one is {media.status}.",
                status=media.status,
            )
        self._check_thumbnail_request(workspace, media, request)
        media.status = MediaStatus.PROCESSING
        media.thumbnail_request = request
        self._enqueue(JobName.MAKE_THUMBNAIL, media)
        self.session.flush()
        return media

    def _check_thumbnail_request(
        self, workspace: Workspace, media: Media, request: dict[str, Any]
    ) -> None:
        if "frame_time_ms" in request:
            if media.kind != MediaKind.VIDEO:
                raise ValidationFailed("frame_time_ms is for videos.", field="frame_time_ms")
            if media.duration_ms is not None and request["frame_time_ms"] > media.duration_ms:
                raise ValidationFailed(
                    f"frame_time_ms is past the end of the video ({media.duration_ms} ms).",
                    field="frame_time_ms",
                    duration_ms=media.duration_ms,
                )
        elif "source_media_id" in request:
            source = self.repository.get(workspace.id, request["source_media_id"])
            if source is None or source.status == MediaStatus.DELETED:
                raise NotFound("No such source media.", field="source_media_id")
            if source.kind not in intake.IMAGE_KINDS or source.status != MediaStatus.READY:
                raise ValidationFailed(
                    "The thumbnail source must be a ready image.", field="source_media_id"
                )
        elif media.kind == MediaKind.AUDIO:
            raise ValidationFailed("Audio has no default preview; pass source_media_id.")

    def platform_verdicts(self, workspace: Workspace, media_id: str) -> tuple[Media, list[Verdict]]:
        """Each network's verdict on a ready media (green, amber, red, with reasons)."""
        media = self.get(workspace, media_id)
        if media.status != MediaStatus.READY:
            raise InvalidState(
                f"Verdicts are given for ready media; this one is {media.status}.",
                status=media.status,
            )
        return media, judge_all(self.facts(media))

    def facts(self, media: Media) -> Facts:
        """What the networks' rules need to know of a media."""
        metadata = media.media_metadata or {}
        return Facts(
            kind=media.kind,
            # A HEIC is used through its JPEG rendition.
            content_type=media.display["content_type"] if media.display else media.content_type,
            size=media.size,
            width=media.width,
            height=media.height,
            duration_ms=media.duration_ms,
            container=metadata.get("container"),
            codec=metadata.get("codec"),
            fps=metadata.get("fps"),
            frames=metadata.get("frames"),
            pages=metadata.get("pages"),
        )

    def usage(self, workspace: Workspace) -> dict[str, tuple[int, int]]:
        """(count, bytes) per kind of everything the workspace keeps, trash included."""
        return self.repository.usage(workspace.id)

    def set_retention(self, workspace: Workspace, days: int | None) -> Workspace:
        """Set a workspace's retention and re-date every media it keeps outside the trash."""
        row = WorkspaceRepository(self.session).get(workspace.id)
        if row is None:
            raise NotFound("No such workspace.")
        row.retention_days = days
        for media in self.repository.kept(workspace.id):
            media.expires_at = retention_expiry(days, media.created_at)
            media.expiry_notified_at = None
        self.session.flush()
        return row

    def quota(self, workspace: Workspace) -> int | None:
        return WorkspaceRepository(self.session).get_quota(workspace.id)

    def may_serve(self, storage_key: str) -> bool:
        """Whether a stored object may be served at its public URL: an original only while
        its media is processing or ready (never unconfirmed or trashed bytes), a derived
        preview also while the media is in the trash (the trash shows it)."""
        parts = storage_key.split("/")
        if len(parts) != 4:
            return False
        media = self.repository.get_by_id(parts[1])
        if media is None or media.workspace_id != parts[0]:
            return False
        if storage_key == media.storage_key:
            unscanned = (media.media_metadata or {}).get("scan", {}).get("status") == SCAN_PENDING
            return media.status in (MediaStatus.PROCESSING, MediaStatus.READY) and not unscanned
        derived_keys = set(derived_keys_of(media))
        servable = (MediaStatus.PROCESSING, MediaStatus.READY, MediaStatus.DELETED)
        return storage_key in derived_keys and media.status in servable

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

    # --- used by jobs -------------------------------------------------------------------

    def apply_scan(self, media: Media, verdict: ScanVerdict) -> bool:
        """Record the processing job's scan of big bytes; False when they were refused
        (the media fails and its bytes are removed)."""
        try:
            refuse_unclean(verdict)
        except MedialibError as refusal:
            self._fail(media, refusal, stage=SCAN_STAGE)
            self.store.delete(media.storage_key)
            return False
        media.media_metadata = {**(media.media_metadata or {}), "scan": {"status": SCAN_CLEAN}}
        self.session.flush()
        return True

    def apply_derivatives(self, media: Media, derived: Derivatives) -> bool:
        """Record what a processing job made; False (apply nothing) if the media moved on."""
        if media.status not in (MediaStatus.PROCESSING, MediaStatus.READY) or (
            media.status == MediaStatus.READY and media.thumbnail is not None
        ):
            return False
        facts = dict(derived.facts)
        for column in ("width", "height", "duration_ms"):
            value = facts.pop(column, None)
            if isinstance(value, int):
                setattr(media, column, value)
        media.media_metadata = {**(media.media_metadata or {}), **facts}
        became_ready = media.status != MediaStatus.READY
        media.thumbnail = derived.thumbnail
        media.display = derived.display or media.display
        media.status = MediaStatus.READY
        if became_ready:
            self._emit("media.ready", media)
        self._enqueue_variants(media)
        self.session.flush()
        return True

    def _enqueue_variants(self, media: Media) -> None:
        if media.variants is not None:
            return
        if media.kind == MediaKind.IMAGE:
            self._enqueue(JobName.MAKE_VARIANTS, media)
        elif media.kind == MediaKind.VIDEO:
            self._enqueue(JobName.MAKE_VIDEO_VARIANTS, media)

    def apply_variants(self, media: Media, variants: list[dict[str, Any]]) -> bool:
        """Record the variants a job made; False (keep nothing) if the media moved on."""
        if media.status != MediaStatus.READY or media.variants is not None:
            return False
        media.variants = variants
        self.session.flush()
        return True

    def apply_thumbnail(
        self, media: Media, request: dict[str, Any], thumbnail: dict[str, Any]
    ) -> str | None:
        """Make a requested preview primary; returns the replaced preview's key to delete,
        or the new key itself when the request is no longer current."""
        if media.status != MediaStatus.PROCESSING or media.thumbnail_request != request:
            return str(thumbnail["key"])
        replaced = media.thumbnail["key"] if media.thumbnail else None
        media.thumbnail = thumbnail
        media.thumbnail_request = None
        media.status = MediaStatus.READY
        self.session.flush()
        return replaced

    def fail_thumbnail(self, media: Media, request: dict[str, Any], error: MedialibError) -> None:
        """A preview that could not be made leaves the asset as it was, and says why."""
        if media.status == MediaStatus.PROCESSING and media.thumbnail_request == request:
            media.status = MediaStatus.READY
            media.thumbnail_request = None
            media.media_metadata = {
                **(media.media_metadata or {}),
                "thumbnail_error": error.to_dict(),
            }
            self.session.flush()

    def fail_processing(self, media: Media, error: MedialibError) -> None:
        # An image is `ready` from confirm (its header was sound), but pixels that cannot
        # be decoded for its preview mean the file is broken after all.
        undecodable_image = (
            media.status == MediaStatus.READY
            and media.kind in intake.IMAGE_KINDS
            and media.thumbnail is None
        )
        if media.status == MediaStatus.PROCESSING or undecodable_image:
            self._fail(media, error, stage=PROCESSING_STAGE)
