from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from medialib.accounts.models import Account


class AccountRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, account: Account) -> None:
        self.session.add(account)
        self.session.flush()

    def get(self, workspace_id: str, account_id: str) -> Account | None:
        return self.session.scalar(
            select(Account).where(Account.id == account_id, Account.workspace_id == workspace_id)
        )

    def get_by_id(self, account_id: str) -> Account | None:
        """For jobs, which carry ids only (the workspace was checked when scheduling)."""
        return self.session.get(Account, account_id)

    def of_workspace(self, workspace_id: str, *, network: str | None = None) -> list[Account]:
        query = select(Account).where(Account.workspace_id == workspace_id)
        if network is not None:
            query = query.where(Account.network == network)
        return list(self.session.scalars(query.order_by(Account.created_at, Account.id)).all())

    def remove(self, account: Account) -> None:
        self.session.delete(account)
        self.session.flush()

    def remove_all(self, workspace_id: str) -> None:
        """Every account of a workspace, its sealed credentials with it."""
        for account in self.of_workspace(workspace_id):
            self.session.delete(account)
        self.session.flush()
