"""Workspaces and their API keys.

A key reads `mlk_<lookup>_<secret>`. Only the lookup part and the SHA-256 of the whole key
are stored; authentication finds the row by lookup and compares hashes in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from medialib.db import utcnow
from medialib.errors import NotFound, Unauthorized
from medialib.ids import new_id
from medialib.workspaces.models import ApiKey, Workspace
from medialib.workspaces.repository import WorkspaceRepository

KEY_PREFIX = "mlk_"


@dataclass(frozen=True, slots=True)
class CreatedKey:
    workspace: Workspace
    api_key: ApiKey
    plaintext: str


def _hash(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def get_or_create_workspace(session: Session, name: str) -> Workspace:
    repository = WorkspaceRepository(session)
    return repository.get_by_name(name) or repository.add(Workspace(id=new_id("ws"), name=name))


def create_key(session: Session, *, workspace_name: str, key_name: str | None = None) -> CreatedKey:
    return new_key(session, get_or_create_workspace(session, workspace_name), key_name)


def new_key(session: Session, workspace: Workspace, key_name: str | None = None) -> CreatedKey:
    """A new key of `workspace`; its text is in the answer, and never again."""
    lookup = secrets.token_hex(6)
    plaintext = f"{KEY_PREFIX}{lookup}_{secrets.token_urlsafe(32)}"
    api_key = WorkspaceRepository(session).add_key(
        ApiKey(
            id=new_id("key"),
            workspace_id=workspace.id,
            lookup_prefix=lookup,
            key_sha256=_hash(plaintext),
            name=key_name,
        )
    )
    return CreatedKey(workspace=workspace, api_key=api_key, plaintext=plaintext)


def revoke_key(session: Session, lookup_prefix: str) -> bool:
    api_key = WorkspaceRepository(session).key_by_prefix(lookup_prefix)
    if api_key is None or api_key.revoked_at is not None:
        return False
    api_key.revoked_at = utcnow()
    session.flush()
    return True


def keys_of(session: Session, workspace: Workspace) -> list[ApiKey]:
    return WorkspaceRepository(session).keys_of(workspace.id)


def revoke_key_by_id(session: Session, workspace: Workspace, key_id: str) -> ApiKey:
    """Revoke one of the workspace's keys (revoking a revoked key changes nothing)."""
    api_key = WorkspaceRepository(session).key(key_id)
    if api_key is None or api_key.workspace_id != workspace.id:
        raise NotFound("No such key.")
    if api_key.revoked_at is None:
        api_key.revoked_at = utcnow()
        session.flush()
    return api_key


def api_key_from(authorization: str | None, x_api_key: str | None) -> str | None:
    """The key a request carries: `Authorization: Bearer <key>`, else `X-API-Key`."""
    if authorization and authorization[:7].lower() == "bearer ":
        return authorization[7:].strip()
    return x_api_key.strip() if x_api_key else None


def authenticate(session: Session, plaintext: str | None) -> Workspace:
    """The workspace a key belongs to, or `Unauthorized` (same answer for every failure)."""
    if not plaintext or not plaintext.startswith(KEY_PREFIX) or len(plaintext) > 200:
        raise Unauthorized()
    lookup = plaintext[len(KEY_PREFIX) :].split("_", 1)[0]
    repository = WorkspaceRepository(session)
    api_key = repository.key_by_prefix(lookup)
    expected = api_key.key_sha256 if api_key is not None else _hash("no such key")
    matches = hmac.compare_digest(expected, _hash(plaintext))
    if api_key is None or not matches or api_key.revoked_at is not None:
        raise Unauthorized()
    workspace = repository.get(api_key.workspace_id)
    if workspace is None or workspace.deleted_at is not None:
        raise Unauthorized()
    return workspace
