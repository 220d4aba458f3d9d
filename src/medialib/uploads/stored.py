"""Bytes already in the object store, from a direct upload or an import, become a media:
the same intake as a signed upload's confirm. Anything refused before confirm keeps
nothing; a refusal at confirm is recorded on the media, as for any upload."""

from __future__ import annotations

from dataclasses import dataclass, field

from medialib.db import session_scope
from medialib.deps import AppState
from medialib.errors import MedialibError
from medialib.media.models import MediaKind
from medialib.media.presenter import present
from medialib.media.schemas import MediaOut
from medialib.media.service import MediaService, infer_kind
from medialib.processing import sniff
from medialib.scanning.service import scan_object
from medialib.workspaces.models import Workspace


@dataclass(frozen=True, slots=True)
class StoredBytes:
    media_id: str
    storage_key: str
    filename: str
    declared_content_type: str | None
    kind: MediaKind | None = None
    tags: list[str] | None = field(default=None)
    description: str | None = None
    tenant_id: str | None = None


def confirm_stored(state: AppState, workspace: Workspace, stored: StoredBytes) -> MediaOut:
    try:
        verdict = scan_object(state.settings, state.store, stored.storage_key)
        with session_scope(state.session_factory) as session:
            service = MediaService(session, store=state.store, settings=state.settings)
            declared = sniff.normalise_mime(stored.declared_content_type)
            kind = infer_kind(kind=stored.kind, content_type=declared, filename=stored.filename)
            media = service.new_media(
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
            outcome = service.confirm(workspace, media.id, scan=verdict)
    except MedialibError:
        state.store.delete(stored.storage_key)  # refused before confirm: keep nothing
        raise
    if outcome.error is not None:
        raise outcome.error
    return present(outcome.media, state.store)
