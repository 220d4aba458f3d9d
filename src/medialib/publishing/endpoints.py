"""Publishing routes: a hand-off publisher's result, "Try again" on a failed target, and
the workspace's network accounts. Thin over the services; the route commits."""

from __future__ import annotations

from fastapi import APIRouter

from medialib.accounts.models import Account
from medialib.accounts.schemas import AccountIn, AccountList, AccountOut, AccountUpdate
from medialib.accounts.service import AccountService
from medialib.deps import CurrentWorkspace, SessionDep, StateDep
from medialib.posts.endpoints import post_out
from medialib.posts.schemas import PostOut
from medialib.publishing.schemas import TargetResult
from medialib.publishing.service import PublishingService
from medialib.route_marks import IDEMPOTENT
from medialib.schemas import Deleted

router = APIRouter(prefix="/v1/posts", tags=["posts"])
accounts_router = APIRouter(prefix="/v1/accounts", tags=["accounts"])


@router.post("/{post_id}/targets/{target_id}/result", response_model=PostOut)
def report_result(
    post_id: str,
    target_id: str,
    body: TargetResult,
    workspace: CurrentWorkspace,
    session: SessionDep,
    state: StateDep,
) -> PostOut:
    """A hand-off publisher reports what the network did with the target it was handed by
    `post.due`: `published` with the network's `remote_id` (and `remote_url`), or `failed`
    with the network's words in `error`. The same report again answers the same; another
    for a target that has ended answers 409."""
    post = PublishingService(session, settings=state.settings).report(
        workspace, post_id, target_id, body
    )
    session.commit()
    return post_out(post)


@router.post("/{post_id}/targets/{target_id}/retry", response_model=PostOut)
def retry_target(
    post_id: str, target_id: str, workspace: CurrentWorkspace, session: SessionDep, state: StateDep
) -> PostOut:
    """Try a failed target again, now; 409 for a target that has not failed."""
    post = PublishingService(session, settings=state.settings).retry(workspace, post_id, target_id)
    session.commit()
    return post_out(post)


@accounts_router.post("", status_code=201, response_model=AccountOut, openapi_extra=IDEMPOTENT)
def add_account(
    body: AccountIn, workspace: CurrentWorkspace, session: SessionDep, state: StateDep
) -> AccountOut:
    """Add an account posts are published as. A Bluesky account is checked at once (a
    wrong app password answers 422 `account_check_failed` with Bluesky's words); its
    credentials are sealed at rest and never returned."""
    account = AccountService(session, settings=state.settings).add(workspace, body)
    session.commit()
    return _account_out(account)


@accounts_router.get("", response_model=AccountList)
def list_accounts(workspace: CurrentWorkspace, session: SessionDep, state: StateDep) -> AccountList:
    accounts = AccountService(session, settings=state.settings).list(workspace)
    return AccountList(data=[_account_out(account) for account in accounts])


@accounts_router.get("/{account_id}", response_model=AccountOut)
def get_account(
    account_id: str, workspace: CurrentWorkspace, session: SessionDep, state: StateDep
) -> AccountOut:
    return _account_out(AccountService(session, settings=state.settings).get(workspace, account_id))


@accounts_router.patch("/{account_id}", response_model=AccountOut)
def update_account(
    account_id: str,
    body: AccountUpdate,
    workspace: CurrentWorkspace,
    session: SessionDep,
    state: StateDep,
) -> AccountOut:
    """Change the handle, the service URL or the credentials; a Bluesky account is checked
    again."""
    account = AccountService(session, settings=state.settings).update(workspace, account_id, body)
    session.commit()
    return _account_out(account)


@accounts_router.delete("/{account_id}", response_model=Deleted)
def remove_account(
    account_id: str, workspace: CurrentWorkspace, session: SessionDep, state: StateDep
) -> Deleted:
    """Remove an account and its credentials; 409 while a scheduled post still needs it."""
    PublishingService(session, settings=state.settings).remove_account(workspace, account_id)
    session.commit()
    return Deleted(id=account_id, deleted=True)


def _account_out(account: Account) -> AccountOut:
    return AccountOut(
        id=account.id,
        network=account.network,
        connector=account.connector,
        handle=account.handle,
        service_url=account.service_url,
        remote_id=account.remote_id,
        has_credentials=account.credentials is not None,
        sends_files="upload" if account.sends_files == "upload" else "url",
        checked_at=account.checked_at,
        created_at=account.created_at,
    )
