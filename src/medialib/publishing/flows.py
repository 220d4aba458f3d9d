"""Publishing a due post: each target moved forward one committed step at a time, so a
crash anywhere is resumed by the job's next attempt and never repeated on the network.

    scheduled ──due──▶ publishing ──▶ published | partly_published | failed
    target:   pending ──▶ sending ──▶ published (remote id, URL) | failed (code, message,
                                       the network's own words, retryable)

A flow (like uploads/flows.py): it owns its short transactions; the call to the network
happens between them, holding no lock. Exactly once per target: a target is marked
`sending` (with its idempotency key) in a committed step before its connector is called;
a repeated attempt calls again with the same key, and the connector finds what the
earlier attempt made (Bluesky: the record under that key). A post edited, moved or
unscheduled before it started is left alone by the job made for its old moment.
"""

from __future__ import annotations

import logging
import os
import zlib
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from medialib.accounts.models import Account, ConnectorName
from medialib.accounts.repository import AccountRepository
from medialib.connectors.base import OutgoingPost, Published, Refused, TryLater
from medialib.connectors.bluesky import tid
from medialib.db import session_scope, utcnow
from medialib.errors import MedialibError
from medialib.jobs.payloads import JobOutcome, PostJob
from medialib.jobs.registry import RunLater
from medialib.media.models import PostCut
from medialib.media.repository import MediaRepository
from medialib.posts.checking import PostChecker, TargetPlan
from medialib.posts.models import HOLDING, Post, PostStatus, PostTarget, TargetStatus
from medialib.posts.repository import PostRepository
from medialib.publishing import delivery, outcome
from medialib.publishing.delivery import TargetWork
from medialib.runtime import Runtime
from medialib.variants import carousel

log = logging.getLogger(__name__)
# A plan that waits on a variant still being made is looked at again this much later.
_VARIANT_WAIT_SECONDS = 30.0


@dataclass(slots=True)
class _Started:
    works: list[TargetWork] = field(default_factory=list)
    settled: bool = False  # nothing to send (all done, or missed)


def publish_post(runtime: Runtime, job: PostJob) -> JobOutcome:
    """The publish job: every target still to go, then the post's final state."""
    _cut_carousels(runtime, job)
    started = _start(runtime, job)
    if started is None:
        return JobOutcome.SKIPPED
    later: list[float] = []
    for work in started.works:
        try:
            _publish_target(runtime, work)
        except RunLater as wait:
            later.append(wait.delay_seconds)
    outcome.settle(runtime, job.post_id)
    if later:
        raise RunLater("a network asked to try again later", delay_seconds=max(later))
    return JobOutcome.DONE


def give_up(runtime: Runtime, job: PostJob, error: str) -> None:
    """Every attempt ended in "later": what is still unsent fails, retryable."""
    with session_scope(runtime.session_factory) as session:
        post = PostRepository(session).get_by_id_for_update(job.post_id)
        if post is None:
            return
        for target in post.targets:
            if target.status in (TargetStatus.PENDING, TargetStatus.SENDING) and not _handed_off(
                session, target
            ):
                last = target.error or {}
                outcome.fail_target(
                    target,
                    str(last.get("code") or "gave_up"),
                    str(last.get("message") or f"Still failing after every attempt: {error}"),
                    network_answer=last.get("network_answer"),
                    retryable=True,
                )
    outcome.settle(runtime, job.post_id)


def _start(runtime: Runtime, job: PostJob) -> _Started | None:
    """Lock the post, take it from scheduled to publishing (or find it publishing after a
    crash or a "later"), and read what each unfinished target will send."""
    settings = runtime.settings
    with session_scope(runtime.session_factory) as session:
        posts = PostRepository(session)
        post = posts.get_by_id_for_update(job.post_id)
        if post is None or post.status not in HOLDING:
            return None
        if post.status == PostStatus.SCHEDULED:
            assert post.scheduled_at is not None
            if post.scheduled_at.isoformat() != job.due_at:
                return None  # moved since this job was made: the new moment has its own
            post.status = PostStatus.PUBLISHING
            post.updated_at = utcnow()
            late = (utcnow() - post.scheduled_at).total_seconds()
            if late > settings.publish_max_lateness:
                _miss(post, late)  # `settle` then ends it failed, with its event
                session.flush()
                return _Started(settled=True)
        plans = _plans(session, runtime, post)
        works = [
            delivery.work_of(post, plan, _account(session, plan.target))
            for plan in plans
            if plan.target.status in (TargetStatus.PENDING, TargetStatus.SENDING)
        ]
        return _Started(works=works)


def _plans(session: Session, runtime: Runtime, post: Post) -> list[TargetPlan]:
    plans = _evaluated(session, runtime, post)
    if plans is None:  # pinned media cannot go; this is a post whose media went anyway
        for target in post.targets:
            if target.status == TargetStatus.PENDING:
                outcome.fail_target(target, "media_missing", "A media of the post is gone.")
        return []
    return plans


def _evaluated(session: Session, runtime: Runtime, post: Post) -> list[TargetPlan] | None:
    """Each target's plan; None when a media of the post is gone."""
    ids = [item.media_id for item in post.media]
    media = {m.id: m for m in MediaRepository(session).by_ids(post.workspace_id, ids)}
    if any(media_id not in media for media_id in ids):
        return None
    accounts = AccountRepository(session).of_workspace(post.workspace_id)
    cuts = PostRepository(session).cuts_of(post)
    return PostChecker(runtime.store).evaluate(post, media, accounts, cuts).plans


def _cut_carousels(runtime: Runtime, job: PostJob) -> None:
    """The stills a target shows at its carousel's first ratio, cut around their subject
    before the targets go (variants/carousel.py): read in one short transaction, made
    outside any, each kept in one of its own, once per target and media however many
    attempts ask. A cut that cannot be made leaves the item to the network's own cut."""
    with session_scope(runtime.reads) as session:
        post = PostRepository(session).get_by_id(job.post_id)
        if post is None or not _due(post, job, runtime.settings.publish_max_lateness):
            return
        asked = [
            carousel.asked(plan.target.id, plan.target.platform, plan.form, media, ratio)
            for plan in _evaluated(session, runtime, post) or []
            if plan.target.status == TargetStatus.PENDING
            and plan.form is not None
            and "image" in plan.form.media
            for media, ratio in plan.cuts_due
        ]
    for ask in asked:
        try:
            made = carousel.make_cut(runtime.store, runtime.settings, ask)
        except MedialibError as failed:
            log.warning("no carousel cut of %s for %s: %s", ask.media_id, ask.target_id, failed)
            continue
        if made is None:
            continue
        with session_scope(runtime.session_factory) as session:
            target = PostRepository(session).target(ask.target_id)
            kept = target is not None and MediaRepository(session).add_cut(
                PostCut(
                    target_id=ask.target_id,
                    media_id=ask.media_id,
                    key=made.key,
                    content_type=made.content_type,
                    width=made.width,
                    height=made.height,
                    size=made.size,
                    checksum_sha256=made.checksum_sha256,
                    crop=made.crop,
                )
            )
        if not kept:  # another attempt kept one first, or the target is gone
            runtime.store.delete(made.key)


def _due(post: Post, job: PostJob, max_lateness: float) -> bool:
    """Whether this job is the one to publish the post now (as `_start` decides)."""
    if post.status == PostStatus.PUBLISHING:
        return True
    if post.status != PostStatus.SCHEDULED or post.scheduled_at is None:
        return False
    late = (utcnow() - post.scheduled_at).total_seconds()
    return post.scheduled_at.isoformat() == job.due_at and late <= max_lateness


def _account(session: Session, target: PostTarget) -> Account | None:
    if target.account_id is None:
        return None
    return AccountRepository(session).get_by_id(target.account_id)


def _miss(post: Post, late: float) -> None:
    minutes = int(late // 60)
    for target in post.targets:
        if target.status == TargetStatus.PENDING:
            outcome.fail_target(
                target,
                "missed",
                f"It fell due {minutes} minutes before medialib could send it "
                "(MEDIALIB_PUBLISH_MAX_LATENESS).",
            )


def _publish_target(runtime: Runtime, work: TargetWork) -> None:
    """One target: refused plans fail at once; a hand-off is handed; a connector is
    called with the target's idempotency key, outside any transaction."""
    begun = _begin(runtime, work)
    if begun is None:
        return
    if work.connector == ConnectorName.HANDOFF:
        return  # handed off in `_begin`: its publisher reports the result
    try:
        published = delivery.send(runtime, work, begun)
    except Refused as refusal:
        _record(runtime, work.target_id, refusal=refusal)
        return
    except TryLater as later:
        _record(runtime, work.target_id, later=later)
        raise RunLater(later.message, delay_seconds=later.retry_after or _backoff(work)) from later
    if runtime.settings.fault_publish_crash:
        log.warning("fault injection: exiting after %s was published", work.target_id)
        os._exit(9)  # as if killed before the result was recorded
    _record(runtime, work.target_id, published=published)


def _begin(runtime: Runtime, work: TargetWork) -> OutgoingPost | None:
    """Mark the target sending (or find it so), in a committed step of its own; None when
    there is nothing to send."""
    with session_scope(runtime.session_factory) as session:
        posts = PostRepository(session)
        target = posts.target_for_update(work.target_id)
        if target is None or target.status not in (TargetStatus.PENDING, TargetStatus.SENDING):
            return None
        refusal = work.refusal()
        if refusal is not None:
            code, message = refusal
            if code == "variant_pending":
                raise RunLater(message, delay_seconds=_VARIANT_WAIT_SECONDS)
            outcome.fail_target(target, code, message)
            return None
        if target.status == TargetStatus.PENDING:
            target.status = TargetStatus.SENDING
            target.started_at = utcnow()
            target.idempotency_key = tid(target.started_at, zlib.crc32(target.id.encode()))
            if work.connector == ConnectorName.HANDOFF:
                target.attempts += 1
                delivery.hand_off(session, runtime, work, target)
                return None
        elif work.connector == ConnectorName.HANDOFF:
            return None  # handed off already; its result or its time-out settles it
        target.attempts += 1
        assert target.idempotency_key is not None and target.started_at is not None
        return work.outgoing(runtime.store, target.idempotency_key, target.started_at)


def _record(
    runtime: Runtime,
    target_id: str,
    *,
    published: Published | None = None,
    refusal: Refused | None = None,
    later: TryLater | None = None,
) -> None:
    with session_scope(runtime.session_factory) as session:
        target = PostRepository(session).target_for_update(target_id)
        if target is None or target.status != TargetStatus.SENDING:
            return
        if published is not None:
            outcome.publish_target(target, published.remote_id, published.remote_url)
        elif refusal is not None:
            outcome.fail_target(
                target, refusal.code, refusal.message, network_answer=refusal.network_answer
            )
        elif later is not None:  # still sending: the next attempt goes on from here
            target.error = outcome.error_dict(
                later.code, later.message, later.network_answer, retryable=True
            )


def _handed_off(session: Session, target: PostTarget) -> bool:
    account = _account(session, target)
    return (
        account is not None
        and account.connector == ConnectorName.HANDOFF
        and target.status == TargetStatus.SENDING
    )


def _backoff(work: TargetWork) -> float:
    return float(min(3600.0, 30.0 * 2 ** max(0, work.attempts)))
