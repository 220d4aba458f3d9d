from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from medialib.workspaces.models import ApiKey, Workspace


class WorkspaceRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get_by_name(self, name: str) -> Workspace | None:
        return self.session.scalar(select(Workspace).where(Workspace.name == name))

    def get(self, workspace_id: str) -> Workspace | None:
        return self.session.get(Workspace, workspace_id)

    def get_quota(self, workspace_id: str) -> int | None:
        return self.session.scalar(
            select(Workspace.quota_bytes).where(Workspace.id == workspace_id)
        )

    def quota_for_update(self, workspace_id: str) -> int | None:
        """The workspace's quota, its row locked until the transaction ends (PostgreSQL), so
        that confirms counting against one quota take turns.

        `FOR NO KEY UPDATE`, not `FOR UPDATE`: a transaction that inserts a media row holds
        a key-share lock on its workspace (the foreign key), which `FOR UPDATE` would wait
        for; two such transactions each waiting for the other's is a deadlock."""
        query = (
            select(Workspace.quota_bytes)
            .where(Workspace.id == workspace_id)
            .with_for_update(key_share=True)
        )
        return self.session.scalar(query)

    def retention_days(self, workspace_id: str) -> int | None:
        return self.session.scalar(
            select(Workspace.retention_days).where(Workspace.id == workspace_id)
        )

    def any_exists(self) -> bool:
        return self.session.scalar(select(Workspace.id).limit(1)) is not None

    def add(self, workspace: Workspace) -> Workspace:
        self.session.add(workspace)
        self.session.flush()
        return workspace

    def add_key(self, api_key: ApiKey) -> ApiKey:
        self.session.add(api_key)
        self.session.flush()
        return api_key

    def key_by_prefix(self, lookup_prefix: str) -> ApiKey | None:
        return self.session.scalar(select(ApiKey).where(ApiKey.lookup_prefix == lookup_prefix))

    def keys_of(self, workspace_id: str) -> list[ApiKey]:
        query = select(ApiKey).where(ApiKey.workspace_id == workspace_id)
        return list(self.session.scalars(query.order_by(ApiKey.created_at, ApiKey.id)).all())

    def key(self, key_id: str) -> ApiKey | None:
        return self.session.get(ApiKey, key_id)

    def deleted_before(self, moment: dt.datetime) -> list[Workspace]:
        query = select(Workspace).where(Workspace.deleted_at < moment)
        return list(self.session.scalars(query).all())

    def is_live(self, workspace_id: str) -> bool:
        """The workspace exists and is not deleted."""
        query = select(Workspace.id).where(
            Workspace.id == workspace_id, Workspace.deleted_at.is_(None)
        )
        return self.session.scalar(query) is not None

    def remove(self, workspace: Workspace) -> None:
        """The workspace and its keys (everything else of it is gone before)."""
        self.session.execute(delete(ApiKey).where(ApiKey.workspace_id == workspace.id))
        self.session.delete(workspace)
        self.session.flush()
