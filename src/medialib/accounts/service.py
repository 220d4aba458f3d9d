"""Adding, checking, changing and removing a workspace's network accounts. A Bluesky
account is checked when it is added or its credentials change (a wrong app password is a
422 now, not a failed post days later); its session is kept sealed beside its password.
Services flush; their boundary commits."""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from medialib.accounts.models import Account, ConnectorName
from medialib.accounts.repository import AccountRepository
from medialib.accounts.schemas import AccountIn, AccountUpdate
from medialib.accounts.sealing import Sealer, sealer_for
from medialib.config import Settings
from medialib.connectors.base import Refused, TryLater
from medialib.connectors.bluesky import BlueskyConnector, BlueskySession, Xrpc
from medialib.db import utcnow
from medialib.errors import (
    AccountCheckFailed,
    NetworkUnreachable,
    NotFound,
    UrlNotAllowed,
    ValidationFailed,
)
from medialib.fetch import FetchPolicy
from medialib.ids import new_id
from medialib.platforms.rules import catalog
from medialib.workspaces.models import Workspace

DEFAULT_BLUESKY_SERVICE = "https://bsky.social"
# The networks medialib speaks to itself; every other network goes by hand-off.
OWN_CONNECTOR = {"bluesky": ConnectorName.BLUESKY}
_CHECK_SECONDS = 30.0


def network_policy(settings: Settings, *, seconds: float) -> FetchPolicy:
    """A network's server is named by the user (a PDS URL): the URL import's rules."""
    return FetchPolicy(
        allow_http=settings.import_allow_http,
        allow_loopback=settings.allow_loopback_targets,
        connect_timeout=min(10.0, seconds),
        read_timeout=seconds,
        deadline_seconds=seconds,
    )


class AccountService:
    def __init__(self, session: Session, *, settings: Settings) -> None:
        self.session = session
        self.settings = settings
        self.accounts = AccountRepository(session)

    def add(self, workspace: Workspace, body: AccountIn) -> Account:
        if body.network not in catalog().networks:
            raise ValidationFailed(
                "Unknown network.", field="network", known=sorted(catalog().networks)
            )
        connector = body.connector or OWN_CONNECTOR.get(body.network, ConnectorName.HANDOFF)
        if connector != ConnectorName.HANDOFF and OWN_CONNECTOR.get(body.network) != connector:
            raise ValidationFailed(
                f"The {connector} connector publishes to {connector} only.", field="connector"
            )
        account = Account(
            id=new_id("acc"),
            workspace_id=workspace.id,
            network=body.network,
            connector=connector,
            handle=body.handle.strip().lstrip("@"),
            service_url=self._service_url(connector, body.service_url),
            # medialib's own connectors upload the bytes; a hand-off publisher, by URL
            # unless it says it uploads.
            sends_files=body.sends_files
            or ("url" if connector == ConnectorName.HANDOFF else "upload"),
        )
        if connector == ConnectorName.BLUESKY:
            self._check_bluesky(account, _password(body.credentials))
        self.accounts.add(account)
        return account

    def update(self, workspace: Workspace, account_id: str, changes: AccountUpdate) -> Account:
        account = self.get(workspace, account_id)
        if changes.handle is not None:
            account.handle = changes.handle.strip().lstrip("@")
        if changes.service_url is not None:
            account.service_url = self._service_url(account.connector, changes.service_url)
        if changes.sends_files is not None:
            account.sends_files = changes.sends_files
        if account.connector == ConnectorName.BLUESKY and (
            changes.credentials is not None or changes.handle or changes.service_url
        ):
            password = (
                _password(changes.credentials)
                if changes.credentials is not None
                else self.password_of(account)
            )
            self._check_bluesky(account, password)
        account.updated_at = utcnow()
        self.session.flush()
        return account

    def get(self, workspace: Workspace, account_id: str) -> Account:
        account = self.accounts.get(workspace.id, account_id)
        if account is None:
            raise NotFound("No such account.")
        return account

    def get_by_id(self, account_id: str) -> Account:
        """For the publisher, which carries ids only."""
        account = self.accounts.get_by_id(account_id)
        if account is None:
            raise NotFound("The account is gone.")
        return account

    def list(self, workspace: Workspace) -> list[Account]:
        return self.accounts.of_workspace(workspace.id)

    def remove(self, workspace: Workspace, account_id: str) -> None:
        self.accounts.remove(self.get(workspace, account_id))

    # --- credentials, for the publisher

    def password_of(self, account: Account) -> str:
        if account.credentials is None:
            raise AccountCheckFailed("The account has no credentials; add them again.")
        opened = self._sealer().open(account.credentials, bound_to=account.id)
        return str(json.loads(opened)["app_password"])

    def session_of(self, account: Account) -> BlueskySession | None:
        if account.session is None:
            return None
        return BlueskySession.from_json(self._sealer().open(account.session, bound_to=account.id))

    def keep_session(self, account: Account, session: BlueskySession) -> None:
        account.session = self._sealer().seal(session.to_json(), bound_to=account.id)
        account.remote_id = session.did
        self.session.flush()

    # --- helpers

    def _check_bluesky(self, account: Account, password: str) -> None:
        sealer = self._sealer()  # refuses before anything is sent when it cannot seal
        assert account.service_url is not None
        xrpc = Xrpc(account.service_url, network_policy(self.settings, seconds=_CHECK_SECONDS))
        connector = BlueskyConnector(xrpc, handle=account.handle, password=password)
        try:
            session = connector.log_in()
        except Refused as refusal:
            if refusal.code == "url_not_allowed":
                raise UrlNotAllowed(refusal.message, field="service_url") from refusal
            raise AccountCheckFailed(
                f"Bluesky refused to log in as {account.handle}: {refusal.network_answer}",
                network_answer=refusal.network_answer,
            ) from refusal
        except TryLater as later:
            raise NetworkUnreachable(
                f"Bluesky could not be reached to check the account: {later.message}",
                network_answer=later.network_answer,
            ) from later
        secret = json.dumps({"app_password": password}).encode()
        account.credentials = sealer.seal(secret, bound_to=account.id)
        account.session = sealer.seal(session.to_json(), bound_to=account.id)
        account.remote_id = session.did
        account.checked_at = utcnow()

    def _service_url(self, connector: ConnectorName, given: str | None) -> str | None:
        if connector != ConnectorName.BLUESKY:
            return given
        return (given or DEFAULT_BLUESKY_SERVICE).rstrip("/")

    def _sealer(self) -> Sealer:
        return sealer_for(self.settings)


def _password(credentials: dict[str, str] | None) -> str:
    found = (credentials or {}).get("app_password") or (credentials or {}).get("password")
    if not found:
        raise ValidationFailed(
            "A Bluesky account needs its app password: credentials.app_password.",
            field="credentials",
        )
    return found
