"""The workspace's own settings: retention (its users choose), quota (the operator's,
shown here, set with `medialib quota`), its API keys, and its usage."""

from __future__ import annotations

from fastapi import APIRouter

from medialib.account.service import AccountService
from medialib.deps import CurrentWorkspace, SessionDep, StateDep
from medialib.errors import ValidationFailed
from medialib.generate.service import GenerationService
from medialib.media.schemas import KindUsage, Usage
from medialib.media.service import MediaLibrary
from medialib.schemas import Deleted
from medialib.workspaces.key_cache import touch_stamp
from medialib.workspaces.keys import KEY_PREFIX, keys_of, new_key, revoke_key_by_id
from medialib.workspaces.models import ApiKey, Workspace
from medialib.workspaces.schemas import (
    KeyIn,
    KeyList,
    KeyOut,
    WorkspaceDeleted,
    WorkspaceDeletion,
    WorkspaceOut,
    WorkspaceUpdate,
)
from medialib.workspaces.service import TRASH_KEEPS, WorkspaceService

router = APIRouter(prefix="/v1/workspace", tags=["workspace"])
keys_router = APIRouter(prefix="/v1/keys", tags=["workspace"])
usage_router = APIRouter(prefix="/v1", tags=["usage"])


@usage_router.get("/usage", response_model=Usage)
def usage(workspace: CurrentWorkspace, session: SessionDep, state: StateDep) -> Usage:
    """Storage the workspace uses: media kept (ready, processing and in the trash), bytes;
    and its AI generations today against the daily allowance."""
    by_kind = MediaLibrary(session, settings=state.settings).usage(workspace)
    generations = GenerationService(session, store=state.store, settings=state.settings)
    return Usage(
        media_count=sum(count for count, _ in by_kind.values()),
        bytes_used=sum(size for _, size in by_kind.values()),
        quota_bytes=WorkspaceService(session).quota(workspace),
        by_kind={kind: KindUsage(count=c, bytes=b) for kind, (c, b) in by_kind.items()},
        generations_today=generations.used_today(workspace),
        generations_per_day=state.settings.generate_per_day,
    )


@router.get("", response_model=WorkspaceOut)
def get_workspace(workspace: CurrentWorkspace, session: SessionDep) -> WorkspaceOut:
    return _out(WorkspaceService(session).current(workspace))


@router.patch("", response_model=WorkspaceOut)
def update_workspace(
    body: WorkspaceUpdate, workspace: CurrentWorkspace, session: SessionDep
) -> WorkspaceOut:
    """Set the retention; every kept media's `expires_at` follows (trash keeps its own)."""
    updated = AccountService(session).set_retention(workspace, body.retention_days)
    session.commit()
    return _out(updated)


@router.delete("", response_model=WorkspaceDeleted)
def delete_workspace(
    body: WorkspaceDeletion, workspace: CurrentWorkspace, session: SessionDep, state: StateDep
) -> WorkspaceDeleted:
    """Delete this workspace: give its name in `confirm`. From now on its keys (this one
    too) stop working, nothing of it is served or accepted, its scheduled posts stop, its
    webhooks stop and its network credentials are erased; every row and byte of it is gone
    for good 30 days later (`medialib gc`). Until then an operator can still read it from
    the database, nobody through the API."""
    current = WorkspaceService(session).current(workspace)
    if body.confirm != current.name:
        raise ValidationFailed(
            "Type the workspace's name in `confirm` to delete it.", field="confirm"
        )
    moved = AccountService(session).delete_workspace(current)
    session.commit()
    state.keys.clear()  # this process forgets its keys at once, the others by the stamp
    touch_stamp(state.settings.resolved_data_dir)
    assert current.deleted_at is not None
    return WorkspaceDeleted(
        id=current.id,
        deleted=True,
        media_in_trash=moved,
        purged_after=current.deleted_at + TRASH_KEEPS,
    )


def _out(workspace: Workspace) -> WorkspaceOut:
    return WorkspaceOut.model_validate(workspace, from_attributes=True)


@keys_router.get("", response_model=KeyList)
def list_keys(workspace: CurrentWorkspace, session: SessionDep) -> KeyList:
    """The workspace's keys, revoked ones included (never their text)."""
    return KeyList(data=[_key_out(key) for key in keys_of(session, workspace)])


@keys_router.post("", status_code=201, response_model=KeyOut)
def create_key(body: KeyIn, workspace: CurrentWorkspace, session: SessionDep) -> KeyOut:
    """A new key for this workspace. `key` holds its text in this answer only."""
    created = new_key(session, workspace, body.name)
    session.commit()
    return _key_out(created.api_key, plaintext=created.plaintext)


@keys_router.delete("/{key_id}", response_model=Deleted)
def revoke_key(
    key_id: str, workspace: CurrentWorkspace, session: SessionDep, state: StateDep
) -> Deleted:
    """Revoke a key: it stops working at once on this server, and on the others that
    share the data folder within the key cache's time-to-live."""
    revoke_key_by_id(session, workspace, key_id)
    session.commit()
    state.keys.clear()
    touch_stamp(state.settings.resolved_data_dir)
    return Deleted(id=key_id, deleted=True)


def _key_out(api_key: ApiKey, *, plaintext: str | None = None) -> KeyOut:
    return KeyOut(
        id=api_key.id,
        name=api_key.name,
        prefix=f"{KEY_PREFIX}{api_key.lookup_prefix}_",
        created_at=api_key.created_at,
        revoked_at=api_key.revoked_at,
        key=plaintext,
    )
