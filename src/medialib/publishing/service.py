"""What people and publishers do to a post that is going out: a hand-off publisher reports
a target's result; a person tries a failed target again. Services flush; the route
commits."""

from __future__ import annotations

from sqlalchemy.orm import Session

from medialib.accounts.models import ConnectorName
from medialib.accounts.repository import AccountRepository
from medialib.accounts.service import AccountService
from medialib.config import Settings
from medialib.db import utcnow
from medialib.errors import InvalidState, NotFound
from medialib.jobs.names import JobName
from medialib.jobs.payloads import PostJob
from medialib.jobs.queue import enqueue
from medialib.jobs.repository import JobRepository
from medialib.media.repository import MediaRepository
from medialib.posts.models import Post, PostStatus, PostTarget, TargetStatus
from medialib.posts.repository import PostRepository
from medialib.publishing import outcome
from medialib.publishing.schemas import TargetResult
from medialib.workspaces.models import Workspace


class PublishingService:
    def __init__(self, session: Session, *, settings: Settings) -> None:
        self.session = session
        self.settings = settings
        self.posts = PostRepository(session)

    def report(
        self, workspace: Workspace, post_id: str, target_id: str, result: TargetResult
    ) -> Post:
        """A hand-off target's result. The same result again is a no-op; another one for a
        target that has ended answers 409."""
        post, target = self._locked(workspace, post_id, target_id)
        account = (
            AccountRepository(self.session).get_by_id(target.account_id)
            if target.account_id
            else None
        )
        if account is None or account.connector != ConnectorName.HANDOFF:
            raise InvalidState("Only a hand-off target takes a reported result.")
        if target.status != TargetStatus.SENDING:
            if _same(target, result):
                return post
            raise InvalidState(f"The target is {target.status} already.", status=target.status)
        if result.status == "published":
            assert result.remote_id is not None
            outcome.publish_target(target, result.remote_id, result.remote_url)
        else:
            assert result.error is not None
            outcome.fail_target(
                target,
                result.error.code,
                result.error.message,
                network_answer=result.error.network_answer,
                retryable=result.error.retryable,
            )
        outcome.settle_post(self.session, self.settings, post)
        return post

    def retry(self, workspace: Workspace, post_id: str, target_id: str) -> Post:
        """A failed target goes again, now: the post is publishing until it has ended."""
        post, target = self._locked(workspace, post_id, target_id)
        if target.status != TargetStatus.FAILED:
            raise InvalidState(
                f"Only a failed target can be tried again; this one is {target.status}.",
                status=target.status,
            )
        target.status, target.error = TargetStatus.PENDING, None
        target.updated_at = utcnow()
        post.status = PostStatus.PUBLISHING
        post.updated_at = utcnow()
        MediaRepository(self.session).pin(
            post.workspace_id, post.id, [item.media_id for item in post.media]
        )
        jobs = JobRepository(self.session)
        jobs.cancel_waiting(JobName.PUBLISH_POST, post.id)
        due = (post.scheduled_at or utcnow()).isoformat()
        enqueue(
            self.session,
            JobName.PUBLISH_POST,
            PostJob(post_id=post.id, due_at=due),
            max_attempts=self.settings.publish_max_attempts,
        )
        self.session.flush()
        return post

    def remove_account(self, workspace: Workspace, account_id: str) -> None:
        """Remove an account and its credentials; refused while a post still goes out as
        it."""
        accounts = AccountService(self.session, settings=self.settings)
        accounts.get(workspace, account_id)
        waiting = self.posts.posts_waiting_on(account_id)
        if waiting:
            raise InvalidState("Scheduled posts still go out as this account.", post_ids=waiting)
        accounts.remove(workspace, account_id)

    def _locked(
        self, workspace: Workspace, post_id: str, target_id: str
    ) -> tuple[Post, PostTarget]:
        post = self.posts.get_for_update(workspace.id, post_id)
        target = next((t for t in post.targets if t.id == target_id), None) if post else None
        if post is None or target is None:
            raise NotFound("No such post target.")
        return post, target


def _same(target: PostTarget, result: TargetResult) -> bool:
    if result.status == "published":
        return target.status == TargetStatus.PUBLISHED and target.remote_id == result.remote_id
    said = (target.error or {}).get("message")
    return (
        target.status == TargetStatus.FAILED
        and result.error is not None
        and said == result.error.message
    )
