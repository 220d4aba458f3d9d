"""Posts: drafts and scheduled posts that reference media, the per-target check that
scheduling runs, and the plan of what each network would be sent.

A post may be saved as a draft with any of the workspace's media; scheduling checks
every target (media ready, counts, mixing, each media's verdict, alt text) and refuses
with every reason at once (`media_validation_failed`). `usage_count` of a media counts
the posts that reference it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from medialib.config import Settings
from medialib.db import utcnow
from medialib.errors import MediaValidationFailed, NotFound, ValidationFailed
from medialib.ids import new_id
from medialib.media.facts import facts_of
from medialib.media.models import Media, MediaStatus
from medialib.media.repository import MediaRepository
from medialib.platforms import rules as platform_rules
from medialib.platforms.verdicts import judge
from medialib.posts.models import Post, PostMedia, PostStatus, Target
from medialib.posts.repository import PostRepository
from medialib.posts.rules import post_limits
from medialib.posts.schemas import PlannedMedia, PlannedTarget, PostCreate
from medialib.storage.base import ObjectStore
from medialib.workspaces.models import Workspace


@dataclass(frozen=True, slots=True)
class Evaluation:
    targets: list[PlannedTarget]

    @property
    def ok(self) -> bool:
        return all(target.ok for target in self.targets)

    def errors(self) -> list[dict[str, str | None]]:
        found: list[dict[str, str | None]] = []
        for target in self.targets:
            found += [
                {"platform": target.platform, "media_id": None, "reason": r} for r in target.reasons
            ]
            for item in target.media:
                found += [
                    {"platform": target.platform, "media_id": item.media_id, "reason": r}
                    for r in item.reasons
                ]
        return found


class PostService:
    def __init__(self, session: Session, *, store: ObjectStore, settings: Settings) -> None:
        self.session = session
        self.store = store
        self.media = MediaRepository(session)
        self.posts = PostRepository(session)

    def create(self, workspace: Workspace, body: PostCreate) -> Post:
        networks = platform_rules.load()
        unknown = sorted({t.platform for t in body.targets if t.platform not in networks})
        if unknown:
            raise ValidationFailed(
                "Unknown platform.", field="targets", unknown=unknown, known=sorted(networks)
            )
        ids = [item.media_id for item in body.media]
        if len(set(ids)) != len(ids):
            raise ValidationFailed("A media may appear once in a post.", field="media")
        post = Post(
            id=new_id("pst"),
            workspace_id=workspace.id,
            text=body.text,
            status=PostStatus.DRAFT,
            targets=[Target(platform=t.platform, account_id=t.account_id) for t in body.targets],
            media=[
                PostMedia(position=i, media_id=item.media_id, alt_text=item.alt_text)
                for i, item in enumerate(body.media)
            ],
        )
        media = self._media_of(workspace, post)
        if body.scheduled_at is not None:
            self._schedule(post, media, body.scheduled_at)
        self.posts.add(post)
        self.media.count_usage(ids, +1)
        return post

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

    def page(self, workspace: Workspace, *, limit: int, offset: int) -> tuple[list[Post], int]:
        return self.posts.page(workspace.id, limit=limit, offset=offset)

    def delete(self, workspace: Workspace, post_id: str) -> None:
        post = self.get(workspace, post_id)
        self.media.count_usage([item.media_id for item in post.media], -1)
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
        networks = platform_rules.load()
        ordered = [(item, media[item.media_id]) for item in post.media]
        targets = []
        for target in post.targets:
            network = networks[target.platform]
            reasons = _post_reasons(network, [m for _, m in ordered])
            planned = [self._plan_one(target.platform, network, item, m) for item, m in ordered]
            targets.append(
                PlannedTarget(
                    platform=target.platform,
                    account_id=target.account_id,
                    ok=not reasons and all(not p.reasons for p in planned),
                    reasons=reasons,
                    media=planned,
                )
            )
        return Evaluation(targets)

    def _plan_one(
        self, platform: str, network: dict[str, Any], item: PostMedia, media: Media
    ) -> PlannedMedia:
        if media.status != MediaStatus.READY:
            return PlannedMedia(
                media_id=media.id,
                send=None,
                reasons=[f"is {media.status}; only ready media can be scheduled"],
            )
        verdict = judge(platform, network, facts_of(media))
        reasons = _alt_text_reasons(network, media.kind, item.alt_text)
        if verdict.verdict == "red":
            return PlannedMedia(media_id=media.id, send=None, reasons=verdict.reasons + reasons)
        if verdict.verdict == "green":
            usable = media.usable_file
            return PlannedMedia(
                media_id=media.id,
                send="original",
                url=self.store.public_url(usable.key),
                content_type=usable.content_type,
                width=media.width,
                height=media.height,
                size=media.size,
                reasons=reasons,
            )
        variant = next((v for v in media.variants or [] if platform in v.platforms), None)
        if variant is None:
            waiting = media.gets_variants and media.variants is None
            why = (
                "its variant for this network is still being made"
                if waiting
                else "needs a variant medialib does not make yet: " + "; ".join(verdict.reasons)
            )
            return PlannedMedia(media_id=media.id, send=None, reasons=[why, *reasons])
        return PlannedMedia(
            media_id=media.id,
            send="variant",
            url=self.store.public_url(variant.key),
            content_type=variant.content_type,
            width=variant.width,
            height=variant.height,
            size=variant.size,
            reasons=reasons,
        )


def _post_reasons(network: dict[str, Any], media: list[Media]) -> list[str]:
    limits = post_limits(network)
    kinds = Counter(m.kind for m in media)
    reasons = []
    if limits.max_items is not None and len(media) > limits.max_items:
        reasons.append(f"{len(media)} media; at most {limits.max_items} in one post")
    for kind, count in sorted(kinds.items()):
        most = limits.most(kind)
        if most is not None and count > most:
            noun = "" if count == 1 else "s"
            reasons.append(f"{count} {kind}{noun}; at most {most} in one post")
    stills, videos = kinds["image"] + kinds["gif"], kinds["video"]
    if stills and videos and not limits.allow_mixing:
        reasons.append("images and videos cannot be mixed in one post")
    return reasons


def _alt_text_reasons(network: dict[str, Any], kind: str, alt_text: str | None) -> list[str]:
    section = platform_rules.section(network, kind)
    longest = section.get("alt_text_max_chars") if section else None
    if alt_text and isinstance(longest, int) and len(alt_text) > longest:
        return [f"alt text is {len(alt_text)} characters; at most {longest}"]
    return []
