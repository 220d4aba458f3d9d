"""Posts: drafts and scheduled posts that reference media. Scheduling runs the per-target
check (posts/checking.py: media ready, counts, mixing, each media's verdict, alt text,
text length) and refuses with every reason at once (`media_validation_failed`); then the
post holds its media (pins) and a publish job waits for its moment (publishing/).

A post can be edited, moved or unscheduled until its first target starts sending; after
that it answers 409. `usage_count` of a media counts the posts that reference it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from medialib.accounts.models import Account
from medialib.accounts.repository import AccountRepository
from medialib.config import Settings
from medialib.db import utcnow
from medialib.errors import InvalidState, MediaValidationFailed, NotFound, ValidationFailed
from medialib.ids import new_id
from medialib.jobs.names import JobName
from medialib.jobs.payloads import PostJob
from medialib.jobs.queue import enqueue
from medialib.jobs.repository import JobRepository
from medialib.media.models import Media, MediaStatus
from medialib.media.repository import MediaRepository
from medialib.platforms.rules import catalog
from medialib.posts.checking import Evaluation, PostChecker
from medialib.posts.models import (
    EDITABLE,
    Post,
    PostMedia,
    PostStatus,
    PostTarget,
    TargetStatus,
)
from medialib.posts.repository import PostRepository
from medialib.posts.schemas import PostCreate
from medialib.storage.base import ObjectBytes
from medialib.workspaces.models import Workspace


class PostService:
    def __init__(self, session: Session, *, store: ObjectBytes, settings: Settings) -> None:
        self.session = session
        self.store = store
        self.settings = settings
        self.media = MediaRepository(session)
        self.posts = PostRepository(session)
        self.accounts = AccountRepository(session)
        self.jobs = JobRepository(session)
        self.checker = PostChecker(store)

    def check_targets(self, body: PostCreate) -> None:
        """Refuse networks medialib does not know (before anything else is done)."""
        networks = catalog().networks
        unknown = sorted({t.platform for t in body.targets if t.platform not in networks})
        if unknown:
            raise ValidationFailed(
                "Unknown platform.", field="targets", unknown=unknown, known=sorted(networks)
            )

    def create(self, workspace: Workspace, body: PostCreate) -> Post:
        """A post of library media (inline images are taken in by the caller first)."""
        post, media = self._build(workspace, body, saved=True)
        if body.scheduled_at is not None:
            self._schedule(post, media, body.scheduled_at)
        self.posts.add(post)
        self.media.count_usage([item.media_id for item in post.media], +1)
        return post

    def replace(self, workspace: Workspace, post_id: str, body: PostCreate) -> Post:
        """A post's new text, networks and media (a composer saving again): a draft, or
        scheduled again after the same checks as creating one."""
        post = self._editable(workspace, post_id)
        built, media = self._build(workspace, body, saved=True)
        self.media.count_usage([item.media_id for item in post.media], -1)
        post.media, post.targets = [], []
        self.session.flush()  # the old rows go before new ones take their positions
        post.text, post.langs = built.text, built.langs
        post.targets, post.media = built.targets, built.media
        post.status, post.scheduled_at = PostStatus.DRAFT, None
        self.media.unpin(post.id)
        self.jobs.cancel_waiting(JobName.PUBLISH_POST, post.id)
        post.updated_at = utcnow()
        if body.scheduled_at is not None:
            self._schedule(post, media, body.scheduled_at)
        self.session.flush()
        self.media.count_usage([item.media_id for item in post.media], +1)
        return post

    def check(self, workspace: Workspace, body: PostCreate) -> Evaluation:
        """What scheduling `body` would answer, per network and media; nothing is saved."""
        post, media = self._build(workspace, body, saved=False)
        return self.checker.evaluate(post, media, self._accounts(workspace.id))

    def _build(
        self, workspace: Workspace, body: PostCreate, *, saved: bool
    ) -> tuple[Post, dict[str, Media]]:
        """A post object of `body`, not yet in the session, and its media (`saved`: its
        targets get ids; a check saves nothing and names none)."""
        self.check_targets(body)
        ids = [item.media_id for item in body.media if item.media_id is not None]
        if len(ids) != len(body.media):
            raise ValidationFailed("Inline media were not taken in.", field="media")
        if len(set(ids)) != len(ids):
            raise ValidationFailed("A media may appear once in a post.", field="media")
        post = Post(
            id=new_id("pst"),
            workspace_id=workspace.id,
            text=body.text,
            langs=body.langs or None,
            status=PostStatus.DRAFT,
            targets=[
                PostTarget(
                    id=new_id("tgt") if saved else None,
                    position=position,
                    platform=t.platform,
                    account_id=t.account_id,
                    status=TargetStatus.PENDING,
                    attempts=0,
                )
                for position, t in enumerate(body.targets)
            ],
            media=[
                PostMedia(position=i, media_id=media_id, alt_text=item.alt_text, title=item.title)
                for i, (media_id, item) in enumerate(zip(ids, body.media, strict=True))
            ],
        )
        media = self._media_of(workspace, post)
        for item in post.media:  # a media's description is its alt text unless one is given
            if item.alt_text is None:
                item.alt_text = media[item.media_id].description
        return post, media

    def schedule(self, workspace: Workspace, post_id: str, scheduled_at: dt.datetime) -> Post:
        post = self._editable(workspace, post_id)
        self._schedule(post, self._media_of(workspace, post), scheduled_at)
        self.session.flush()
        return post

    def unschedule(self, workspace: Workspace, post_id: str) -> Post:
        """Back to a draft (its publish job finds it so and does nothing); its media are
        free again."""
        post = self._editable(workspace, post_id)
        post.status, post.scheduled_at = PostStatus.DRAFT, None
        post.updated_at = utcnow()
        self.media.unpin(post.id)
        self.jobs.cancel_waiting(JobName.PUBLISH_POST, post.id)
        self.session.flush()
        return post

    def get(self, workspace: Workspace, post_id: str) -> Post:
        post = self.posts.get(workspace.id, post_id)
        if post is None:
            raise NotFound("No such post.")
        return post

    def page(
        self,
        workspace: Workspace,
        *,
        limit: int,
        offset: int,
        status: str | None = None,
        media_id: str | None = None,
    ) -> tuple[list[Post], int]:
        return self.posts.page(
            workspace.id, limit=limit, offset=offset, status=status, media_id=media_id
        )

    def delete(self, workspace: Workspace, post_id: str) -> None:
        """Forget a post (what it published stays on the networks); not while publishing."""
        post = self.posts.get_for_update(workspace.id, post_id)
        if post is None:
            raise NotFound("No such post.")
        if post.status == PostStatus.PUBLISHING:
            raise InvalidState("The post is being published.", status=post.status)
        self.media.count_usage([item.media_id for item in post.media], -1)
        self.media.unpin(post.id)
        self.jobs.cancel_waiting(JobName.PUBLISH_POST, post.id)
        self.posts.remove(post)

    def plan(self, workspace: Workspace, post_id: str) -> tuple[Post, Evaluation]:
        post = self.get(workspace, post_id)
        media = self._media_of(workspace, post)
        accounts = self._accounts(workspace.id)
        return post, self.checker.evaluate(post, media, accounts, self.posts.cuts_of(post))

    def _editable(self, workspace: Workspace, post_id: str) -> Post:
        """The post, locked, if it may still change: a draft or a scheduled post whose
        first target has not started sending (the publisher takes the same lock)."""
        post = self.posts.get_for_update(workspace.id, post_id)
        if post is None:
            raise NotFound("No such post.")
        if post.status not in EDITABLE:
            raise InvalidState(
                f"The post is {post.status.replace('_', ' ')}: it can no longer change.",
                status=post.status,
            )
        return post

    # --- checking -------------------------------------------------------------------------

    def _schedule(self, post: Post, media: dict[str, Media], scheduled_at: dt.datetime) -> None:
        if scheduled_at <= utcnow():
            raise ValidationFailed("scheduled_at is in the past.", field="scheduled_at")
        self._assign_accounts(post)
        evaluation = self.checker.evaluate(post, media, self._accounts(post.workspace_id))
        if not evaluation.ok:
            raise MediaValidationFailed(errors=evaluation.errors())
        post.status = PostStatus.SCHEDULED
        post.scheduled_at = scheduled_at
        post.updated_at = utcnow()
        # Its media stay until it has gone out (no delete, no purge).
        self.media.pin(post.workspace_id, post.id, [item.media_id for item in post.media])
        self.jobs.cancel_waiting(JobName.PUBLISH_POST, post.id)  # one publish job a post
        enqueue(
            self.session,
            JobName.PUBLISH_POST,
            PostJob(post_id=post.id, due_at=scheduled_at.isoformat()),
            max_attempts=self.settings.publish_max_attempts,
            run_after=scheduled_at,
        )

    def _accounts(self, workspace_id: str) -> list[Account]:
        return self.accounts.of_workspace(workspace_id)

    def _assign_accounts(self, post: Post) -> None:
        """Each target's account: the one it names (it must be this workspace's, on that
        network), or the workspace's only account on the network. A target without one is
        kept, and fails `no_account` when it falls due."""
        for target in post.targets:
            if target.account_id is None:
                found = self.accounts.of_workspace(post.workspace_id, network=target.platform)
                if len(found) == 1:
                    target.account_id = found[0].id
                continue
            account = self.accounts.get(post.workspace_id, target.account_id)
            if account is None:
                raise ValidationFailed(
                    "No such account.", field="targets", account_id=target.account_id
                )
            if account.network != target.platform:
                raise ValidationFailed(
                    f"That account is on {account.network}, not {target.platform}.",
                    field="targets",
                    account_id=target.account_id,
                )

    def _media_of(self, workspace: Workspace, post: Post) -> dict[str, Media]:
        ids = [item.media_id for item in post.media]
        found = {
            media.id: media
            for media in self.media.by_ids(workspace.id, ids)
            if media.status != MediaStatus.DELETED
        }
        missing = [media_id for media_id in ids if media_id not in found]
        if missing:
            raise ValidationFailed("No such media.", field="media", missing=missing)
        return found
