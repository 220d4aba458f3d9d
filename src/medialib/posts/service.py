"""Posts: drafts and scheduled posts that reference media, the per-target check that
scheduling runs, and the plan of what each network would be sent.

A post may be saved as a draft with any of the workspace's media; scheduling checks
every target (media ready, counts, mixing, each media's verdict, alt text) and refuses
with every reason at once (`media_validation_failed`). `usage_count` of a media counts
the posts that reference it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from medialib.config import Settings
from medialib.db import utcnow
from medialib.errors import MediaValidationFailed, NotFound, ValidationFailed
from medialib.ids import new_id
from medialib.media.models import Media, MediaStatus
from medialib.media.repository import MediaRepository
from medialib.platforms.reasons import Reason
from medialib.platforms.rules import Form, MediaRules, Network, catalog
from medialib.posts.models import Post, PostMedia, PostStatus, Target
from medialib.posts.repository import PostRepository
from medialib.posts.rules import choose_form
from medialib.posts.schemas import PlannedMedia, PlannedTarget, PostCreate
from medialib.schemas import ReasonOut
from medialib.storage.base import ObjectStore
from medialib.variants.choice import choose
from medialib.variants.facts import facts_of
from medialib.workspaces.models import Workspace


@dataclass(frozen=True, slots=True)
class Evaluation:
    targets: list[PlannedTarget]

    @property
    def ok(self) -> bool:
        return all(target.ok for target in self.targets)

    def errors(self) -> list[dict[str, Any]]:
        """Every reason that keeps the post from being scheduled, each with where it is
        (`platform`, `media_id`: null for the post as a whole) and the reason's fields
        (`code`, `message`, `limit`, `actual`, `fix`, `form`; `reason` repeats `message`)."""
        found: list[dict[str, Any]] = []
        for target in self.targets:
            found += [_error(target.platform, None, r) for r in target.reasons]
            for item in target.media:
                if item.blocking:
                    found += [_error(target.platform, item.media_id, r) for r in item.reasons]
        return found


def _error(platform: str, media_id: str | None, reason: ReasonOut) -> dict[str, Any]:
    return {
        "platform": platform,
        "media_id": media_id,
        "reason": reason.message,
        **reason.model_dump(),
    }


class PostService:
    def __init__(self, session: Session, *, store: ObjectStore, settings: Settings) -> None:
        self.session = session
        self.store = store
        self.media = MediaRepository(session)
        self.posts = PostRepository(session)

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
        post, media = self._build(workspace, body)
        if body.scheduled_at is not None:
            self._schedule(post, media, body.scheduled_at)
        self.posts.add(post)
        self.media.count_usage([item.media_id for item in post.media], +1)
        return post

    def replace(self, workspace: Workspace, post_id: str, body: PostCreate) -> Post:
        """A post's new text, networks and media (a composer saving again): a draft, or
        scheduled again after the same checks as creating one."""
        post = self.get(workspace, post_id)
        built, media = self._build(workspace, body)
        self.media.count_usage([item.media_id for item in post.media], -1)
        post.media = []
        self.session.flush()  # the old rows go before new ones take their positions
        post.text, post.targets, post.media = built.text, built.targets, built.media
        post.status, post.scheduled_at = PostStatus.DRAFT, None
        self.media.unpin(post.id)
        post.updated_at = utcnow()
        if body.scheduled_at is not None:
            self._schedule(post, media, body.scheduled_at)
        self.session.flush()
        self.media.count_usage([item.media_id for item in post.media], +1)
        return post

    def check(self, workspace: Workspace, body: PostCreate) -> Evaluation:
        """What scheduling `body` would answer, per network and media; nothing is saved."""
        post, media = self._build(workspace, body)
        return self._evaluate(post, media)

    def _build(self, workspace: Workspace, body: PostCreate) -> tuple[Post, dict[str, Media]]:
        """A post object of `body`, not yet in the session, and its media."""
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
            status=PostStatus.DRAFT,
            targets=[Target(platform=t.platform, account_id=t.account_id) for t in body.targets],
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
        post = self.get(workspace, post_id)
        self._schedule(post, self._media_of(workspace, post), scheduled_at)
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
        post = self.get(workspace, post_id)
        self.media.count_usage([item.media_id for item in post.media], -1)
        self.media.unpin(post.id)
        self.posts.remove(post)

    def plan(self, workspace: Workspace, post_id: str) -> tuple[Post, Evaluation]:
        post = self.get(workspace, post_id)
        return post, self._evaluate(post, self._media_of(workspace, post))

    # --- checking -------------------------------------------------------------------------

    def _schedule(self, post: Post, media: dict[str, Media], scheduled_at: dt.datetime) -> None:
        if scheduled_at <= utcnow():
            raise ValidationFailed("scheduled_at is in the past.", field="scheduled_at")
        evaluation = self._evaluate(post, media)
        if not evaluation.ok:
            raise MediaValidationFailed(errors=evaluation.errors())
        post.status = PostStatus.SCHEDULED
        post.scheduled_at = scheduled_at
        post.updated_at = utcnow()
        # Its media stay until it has gone out (no delete, no purge).
        self.media.pin(post.workspace_id, post.id, [item.media_id for item in post.media])

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

    def _evaluate(self, post: Post, media: dict[str, Media]) -> Evaluation:
        rules = catalog()
        ordered = [(item, media[item.media_id]) for item in post.media]
        kinds = [m.network_kind for _, m in ordered]
        titled = all(
            (item.title or m.description) for item, m in ordered if m.network_kind == "document"
        )
        targets = []
        for target in post.targets:
            network = rules.networks[target.platform]
            form, reasons = choose_form(network, kinds, text=post.text, titled=titled)
            planned = [self._plan_one(network, form, item, m) for item, m in ordered]
            targets.append(
                PlannedTarget(
                    platform=target.platform,
                    account_id=target.account_id,
                    form=form.id if form is not None else None,
                    ok=not reasons and all(not p.blocking for p in planned),
                    reasons=[_out(r) for r in reasons],
                    media=planned,
                )
            )
        return Evaluation(targets)

    def _plan_one(
        self, network: Network, form: Form | None, item: PostMedia, media: Media
    ) -> PlannedMedia:
        choice = choose(network, form, media)
        rules = choice.rules_form.media[facts_of(media).kind].rules if choice.rules_form else None
        alt = _alt_text_reasons(rules, item.alt_text, form) if choice.verdict else []
        if choice.file is None:
            return PlannedMedia(
                media_id=media.id,
                send=None,
                reasons=[_out(r) for r in (*choice.refusals, *alt)],
                blocking=True,
            )
        chosen = choice.file
        return PlannedMedia(
            media_id=media.id,
            send=choice.send,
            url=self.store.public_url(chosen.key),
            content_type=chosen.content_type,
            width=chosen.width,
            height=chosen.height,
            size=chosen.size,
            crop=chosen.crop,
            reasons=[_out(r) for r in (*choice.reasons, *alt)],
            blocking=bool(alt),
        )


def _out(reason: Reason) -> ReasonOut:
    return ReasonOut(**reason.as_dict())


def _alt_text_reasons(
    rules: MediaRules | None, alt_text: str | None, form: Form | None
) -> list[Reason]:
    longest = rules.alt_text_max_chars if rules is not None else None
    if alt_text and longest is not None and len(alt_text) > longest:
        return [
            Reason(
                "alt_text_too_long",
                f"The alt text is {len(alt_text):,} characters; at most {longest:,}.",
                "none",
                form.id if form is not None else None,
                longest,
                len(alt_text),
            )
        ]
    return []
