"""The publishing jobs: a post at its moment (`publishing.publish_post`, retried while a
network says "later"), and a hand-off that got no result in time."""

from __future__ import annotations

from medialib.db import session_scope
from medialib.jobs.names import JobName
from medialib.jobs.payloads import JobOutcome, PostJob, TargetJob
from medialib.jobs.registry import JobContext, registry
from medialib.posts.models import TargetStatus
from medialib.posts.repository import PostRepository
from medialib.publishing import flows, outcome


@registry.register(JobName.PUBLISH_POST, PostJob, give_up=flows.give_up)
def publish_post(context: JobContext, job: PostJob) -> JobOutcome:
    return flows.publish_post(context, job)


def _nothing_more(context: JobContext, job: TargetJob, error: str) -> None:
    """The time-out's own failure changes nothing: the target waits for its result."""


@registry.register(JobName.HANDOFF_TIMEOUT, TargetJob, give_up=_nothing_more)
def handoff_timeout(context: JobContext, job: TargetJob) -> JobOutcome:
    with session_scope(context.session_factory) as session:
        posts = PostRepository(session)
        found = posts.target(job.target_id)
        # The post is locked first, as everywhere: a result reported now takes turns.
        post = posts.get_by_id_for_update(found.post_id) if found is not None else None
        target = next((t for t in post.targets if t.id == job.target_id), None) if post else None
        if post is None or target is None or target.status != TargetStatus.SENDING:
            return JobOutcome.SKIPPED  # its result came in time
        seconds = int(context.settings.handoff_timeout)
        outcome.fail_target(
            target,
            "no_result",
            f"The publisher sent no result within {seconds} s (MEDIALIB_HANDOFF_TIMEOUT).",
            retryable=True,
        )
        outcome.settle_post(session, context.settings, post)
    return JobOutcome.DONE
