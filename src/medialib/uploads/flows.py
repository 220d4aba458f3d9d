"""The confirm flow: every way bytes come in ends here, the same way.

- a signed upload: the client PUTs the bytes, then calls confirm (`confirm_upload`);
- a direct upload or a URL import: the bytes are stored first, then become a media in
  the confirm's own transaction (`confirm_stored`);
- a resumable (tus) upload: its last byte completes it (`complete_resumable`).

Each is: a short read (which bytes, if the media still waits for them), the virus scan
outside any transaction (it takes time, and on SQLite a transaction holds the write
lock), then the locked confirm (`MediaIntake.confirm`) in one committed transaction. A
refusal at confirm is committed as the media's `failed` state and returned as
`outcome.error` for the caller to answer with.

A flow is a boundary, like a route or a job: it owns its transactions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from medialib.db import session_scope
from medialib.ids import new_id
from medialib.media.intake import ConfirmOutcome, MediaIntake, infer_kind, storage_key_for
from medialib.media.models import MediaKind
from medialib.media.repository import MediaRepository
from medialib.processing import sniff
from medialib.runtime import Runtime
from medialib.scanning.service import scan_object
from medialib.storage.base import ObjectBytes
from medialib.uploads.resumable import ResumableUploads, UploadView
from medialib.workspaces.models import Workspace


@dataclass(frozen=True, slots=True)
class StoredBytes:
    """Bytes a direct upload or an import already stored, and what was said of them."""

    media_id: str
    storage_key: str
    filename: str
    declared_content_type: str | None
    kind: MediaKind | None = None
    tags: list[str] | None = None
    description: str | None = None
    tenant_id: str | None = None


def intake(runtime: Runtime, session: Session) -> MediaIntake:
    return MediaIntake(session, store=runtime.store, settings=runtime.settings)


def confirm_upload(runtime: Runtime, workspace: Workspace, media_id: str) -> ConfirmOutcome:
    """Confirm a media whose bytes were sent to its upload URL."""
    return _confirm(runtime, workspace, media_id)


def confirm_stored(runtime: Runtime, workspace: Workspace, stored: StoredBytes) -> ConfirmOutcome:
    """Make a media of stored bytes and confirm it. If anything fails before the media is
    committed (a refusal, the scanner, the database), the bytes are removed: no row would
    own them."""

    def create(session: Session) -> None:
        declared = sniff.normalise_mime(stored.declared_content_type)
        kind = infer_kind(kind=stored.kind, content_type=declared, filename=stored.filename)
        intake(runtime, session).new_media(
            workspace,
            filename=stored.filename,
            kind=kind,
            content_type=declared or "application/octet-stream",
            tenant_id=stored.tenant_id,
            tags=stored.tags,
            description=stored.description,
            media_id=stored.media_id,
            storage_key=stored.storage_key,
        )

    try:
        return _confirm(runtime, workspace, stored.media_id, key=stored.storage_key, prepare=create)
    except Exception:
        runtime.store.delete(stored.storage_key)
        raise


def confirm_inline(
    runtime: Runtime,
    workspace: Workspace,
    data: bytes,
    *,
    filename: str,
    description: str | None = None,
) -> ConfirmOutcome:
    """Make a media of a small image that came inside a request (a post's inline image):
    stored, then confirmed like a direct upload (sniffed, scanned, de-duplicated)."""
    media_id = new_id("med")
    key = storage_key_for(workspace.id, media_id)
    store_chunks(runtime.store, key, [data], max_bytes=len(data))
    stored = StoredBytes(
        media_id=media_id,
        storage_key=key,
        filename=filename,
        declared_content_type=None,
        kind=MediaKind.IMAGE,
        description=description,
    )
    outcome = confirm_stored(runtime, workspace, stored)
    if outcome.error is not None:
        # Refused (a PDF in disguise, a virus): the request fails, and nothing of it stays
        # in the library, not even a failed row.
        with session_scope(runtime.session_factory) as session:
            repository = MediaRepository(session)
            refused = repository.get_by_id(media_id)
            if refused is not None:
                repository.remove(refused)
        runtime.store.delete(key)
    return outcome


def store_chunks(store: ObjectBytes, key: str, chunks: Iterable[bytes], *, max_bytes: int) -> None:
    """Write bytes that came inside a request or from a provider under `key`, with the
    type their first bytes say (served as what they are, not as octet-stream); over
    `max_bytes`, `ObjectTooLarge` and nothing kept."""
    pieces = iter(chunks)
    head = b""
    for piece in pieces:
        head += piece
        if len(head) >= sniff.SNIFF_BYTES:
            break
    detected = sniff.sniff(head[: sniff.SNIFF_BYTES]) or "application/octet-stream"
    writer = store.open_writer(key, content_type=detected, max_bytes=max_bytes, exclusive=True)
    try:
        writer.write(head)
        for piece in pieces:
            writer.write(piece)
        writer.commit()
    finally:
        writer.abort()


def confirm_generated(
    runtime: Runtime, workspace: Workspace, media_id: str, *, key: str, filename: str
) -> ConfirmOutcome:
    """A generation's bytes are stored under its media's key: the media (made in
    `processing` when the generation began) is confirmed like any upload, under its
    final name (with the extension its bytes call for)."""

    def bytes_arrived(session: Session) -> None:
        MediaRepository(session).mark_uploaded(media_id, filename=filename)

    return _confirm(runtime, workspace, media_id, key=key, prepare=bytes_arrived)


def complete_resumable(runtime: Runtime, workspace: Workspace, view: UploadView) -> ConfirmOutcome:
    """Every byte of a resumable upload is in the store: mark it complete and confirm its
    media (idempotent, like any confirm: a repeated last PATCH gets the same answer)."""

    def mark_complete(session: Session) -> None:
        ResumableUploads(session, store=runtime.store, settings=runtime.settings).mark_complete(
            view.id
        )

    return _confirm(runtime, workspace, view.media_id, key=view.storage_key, prepare=mark_complete)


def _confirm(
    runtime: Runtime,
    workspace: Workspace,
    media_id: str,
    *,
    key: str | None = None,
    prepare: Callable[[Session], None] | None = None,
) -> ConfirmOutcome:
    """Scan (when on) outside any transaction, then `prepare` and confirm in one."""
    verdict = None
    if runtime.scanner is not None:
        if key is None:  # scanning off needs no read before the locked one
            with session_scope(runtime.session_factory) as session:
                key = intake(runtime, session).confirmable_key(workspace, media_id)
        if key is not None:
            verdict = scan_object(
                runtime.scanner,
                runtime.store,
                key,
                inline_max_bytes=runtime.settings.scan_inline_max_bytes,
            )
    with session_scope(runtime.session_factory) as session:
        if prepare is not None:
            prepare(session)
        return intake(runtime, session).confirm(
            workspace, media_id, scanning=runtime.scanner is not None, scan=verdict
        )
