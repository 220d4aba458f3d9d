"""Intake: the `pending_upload` media an upload asks for, and the locked confirm that
turns stored bytes into a media (or records why not).

Confirm is one atomic transition: the media row is locked (PostgreSQL `FOR UPDATE`,
SQLite `BEGIN IMMEDIATE`), so parallel confirms queue behind the first and then read its
outcome instead of redoing it. Scanning happens before, outside any transaction: see the
confirm flow (`uploads/flows.py`), the one way every upload reaches `confirm`.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from medialib.config import Settings
from medialib.db import utcnow
from medialib.errors import (
    MedialibError,
    NotFound,
    PayloadTooLarge,
    UploadMissing,
    ValidationFailed,
    error_from_dict,
    too_big_message,
)
from medialib.ids import new_id, new_token
from medialib.media import inspection
from medialib.media.derivatives import sibling_key
from medialib.media.models import CONFIRMABLE, Media, MediaKind, MediaStatus, ScanStatus
from medialib.media.quota import Quota
from medialib.media.repository import MediaRepository
from medialib.media.schemas import UploadRequest
from medialib.media.transitions import CONFIRM_STAGE, Transitions
from medialib.processing import sniff
from medialib.processing.filenames import clean_filename
from medialib.scanning.base import ScanVerdict
from medialib.scanning.service import refuse_unclean
from medialib.storage.base import ObjectStore, UploadGrant, UploadTarget
from medialib.webhooks.events import EventType
from medialib.workspaces.models import Workspace
from medialib.workspaces.repository import WorkspaceRepository
from medialib.workspaces.service import retention_expiry

log = logging.getLogger(__name__)

# Usable as soon as confirmed (their preview follows); the rest waits for its job.
_READY_AT_CONFIRM_TYPES = frozenset(
    {"image/jpeg", "image/png", "image/apng", "image/webp", "image/gif", "image/avif"}
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
        f"Cannot tell what kind of file “{filename}” is from its name or type: give it an "
        "extension such as .jpg, .mp4 or .pdf, or say its `kind`.",
        field="kind",
    )


# What a media was made from (an AI generation's prompt and provider): the bytes' facts
# never replace it.
KEPT_METADATA = ("generation",)


def _kept_metadata(media: Media) -> dict[str, Any]:
    return {k: v for k, v in (media.media_metadata or {}).items() if k in KEPT_METADATA}


def _scan_status(scanning: bool, scan: ScanVerdict | None) -> ScanStatus:
    if not scanning:
        return ScanStatus.OFF
    return ScanStatus.CLEAN if scan is not None else ScanStatus.PENDING


def storage_key_for(workspace_id: str, media_id: str) -> str:
    """Server-made and unguessable: the user's filename never reaches a path."""
    return f"{workspace_id}/{media_id}/{new_token()}/original"


class MediaIntake:
    def __init__(self, session: Session, *, store: ObjectStore, settings: Settings) -> None:
        self.session = session
        self.store = store
        self.settings = settings
        self.repository = MediaRepository(session)
        self.quota = Quota(session)
        self.workspaces = WorkspaceRepository(session)
        self.transitions = Transitions(session, settings)

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
            raise PayloadTooLarge(too_big_message(kind, cap, size), max_bytes=cap, size=size)
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
            # Read now: the workspace given may be a cached snapshot of an earlier moment.
            expires_at=retention_expiry(self.workspaces.retention_days(workspace.id), utcnow()),
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
        self.quota.check_room(workspace, adding=request.size or 0)
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

    def confirmable_key(self, workspace: Workspace, media_id: str) -> str | None:
        """The storage key of a media that is waiting for its confirm, else None."""
        media = self.repository.get(workspace.id, media_id)
        return media.storage_key if media is not None and media.status in CONFIRMABLE else None

    def confirm(
        self,
        workspace: Workspace,
        media_id: str,
        *,
        scanning: bool,
        scan: ScanVerdict | None = None,
    ) -> ConfirmOutcome:
        """`scanning`: whether a scanner is configured; `scan`: its verdict on the bytes
        when they were scanned before. With scanning on and no verdict, the processing job
        scans them first (the media says so: `metadata.scan.status` = pending)."""
        media = self.repository.get_for_update(workspace.id, media_id)
        if media is None or media.status == MediaStatus.DELETED:
            raise NotFound("No such media.")
        if media.status not in CONFIRMABLE:
            return self._earlier_outcome(media)
        info = self.store.stat(media.storage_key)
        if info is None:
            raise UploadMissing()
        try:
            self.quota.check_room_locked(workspace, media_id=media.id, size=info.size)
            result = inspection.inspect(
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
            self.transitions.fail(media, refusal, stage=CONFIRM_STAGE, size=info.size)
            self.store.delete(media.storage_key)
            return ConfirmOutcome(media=media, error=refusal)
        self._accept(media, result, scan_status=_scan_status(scanning, scan))
        return ConfirmOutcome(media=media)

    def _earlier_outcome(self, media: Media) -> ConfirmOutcome:
        if media.status == MediaStatus.FAILED and media.failed_stage == CONFIRM_STAGE:
            return ConfirmOutcome(media=media, error=error_from_dict(media.error or {}))
        return ConfirmOutcome(media=media)

    def _accept(
        self, media: Media, result: inspection.IntakeResult, *, scan_status: ScanStatus
    ) -> None:
        media.size = result.size
        media.checksum_sha256 = result.sha256
        media.content_type = result.content_type
        media.width, media.height = result.width, result.height
        media.duration_ms = result.duration_ms
        media.media_metadata = {**_kept_metadata(media), **result.metadata}
        media.scan_status = scan_status
        earlier = None
        if scan_status != ScanStatus.PENDING:  # unscanned bytes are never passed off as done
            earlier = self.repository.processed_duplicate(
                media.workspace_id,
                checksum_sha256=result.sha256,
                kind=media.kind,
                exclude_id=media.id,
            )
        if earlier is None or not self._reuse_processing(media, earlier):
            ready_now = (
                result.content_type in _READY_AT_CONFIRM_TYPES and scan_status != ScanStatus.PENDING
            )
            media.status = MediaStatus.READY if ready_now else MediaStatus.PROCESSING
            self.transitions.enqueue_processing(media)
        if media.status == MediaStatus.READY:
            self.transitions.emit(EventType.MEDIA_READY, media)
        self.session.flush()

    def _reuse_processing(self, media: Media, earlier: Media) -> bool:
        """The same bytes were processed before: link their derived files, skip the work.
        False, with nothing changed, when one of those files is gone from the store (it
        is then processed afresh)."""
        copied: list[str] = []

        def copy(key: str) -> str:
            target = sibling_key(key, media.storage_key)
            self.store.copy(key, target)
            copied.append(target)
            return target

        try:
            thumbnail, display = (
                None if derived is None else derived.model_copy(update={"key": copy(derived.key)})
                for derived in (earlier.thumbnail, earlier.display)
            )
            variants = [
                variant.model_copy(update={"key": copy(variant.key)})
                for variant in earlier.variants or []
            ]
        except FileNotFoundError as missing:
            log.warning(
                "not reusing %s's files for %s: %s is missing", earlier.id, media.id, missing
            )
            for key in copied:
                self.store.delete(key)
            return False
        media.duplicate_of = earlier.id
        media.width, media.height = earlier.width, earlier.height
        media.duration_ms = earlier.duration_ms
        scan_status = media.scan_status or ScanStatus.OFF
        kept = _kept_metadata(media)
        media.media_metadata = {**dict(earlier.media_metadata or {}), **kept}
        media.scan_status = scan_status
        media.thumbnail, media.display = thumbnail, display
        media.status = MediaStatus.READY
        if earlier.variants is not None:
            media.variants = variants
            # The same bytes fitted the same way: made under the same key (variants/).
            media.variants_key = earlier.variants_key if earlier.framing == media.framing else None
        else:
            self.transitions.enqueue_variants(media)
        return True
