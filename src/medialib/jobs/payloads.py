"""What each job carries: ids only, as typed models (immich's `JobOf<Name>`). The row keeps
the payload as JSON; the executor validates it against the job's model before the
handler sees it, and a payload that does not fit is given up at once.

`subject_id` is the one id a job is about, kept in a column of its own so "is a job
for this media waiting?" is an indexed question.
"""

from __future__ import annotations

import enum

from pydantic import BaseModel, ConfigDict

from medialib.jobs.names import JobName


class JobStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for its `run_after` (first run or a retry)
    RUNNING = "running"  # claimed; taken again once its lease lapses
    DONE = "done"
    FAILED = "failed"  # every attempt failed; the handler's `give_up` has run


class JobOutcome(enum.StrEnum):
    """What a handler did, for the log and the metrics (a raised error is a failure)."""

    DONE = "done"
    SKIPPED = "skipped"  # nothing to do: delivered twice, or its subject moved on
    REFUSED = "refused"  # the subject failed for good (bad bytes, a provider's refusal)
    RESCHEDULED = "rescheduled"  # the handler asked to run again later (see `RunLater`)


class JobPayload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    request_id: str | None = None  # the request that caused it: its records carry it

    @property
    def subject_id(self) -> str:
        raise NotImplementedError


class MediaJob(JobPayload):
    media_id: str

    @property
    def subject_id(self) -> str:
        return self.media_id


class DeliveryJob(JobPayload):
    delivery_id: str

    @property
    def subject_id(self) -> str:
        return self.delivery_id


class GenerationJob(JobPayload):
    generation_id: str

    @property
    def subject_id(self) -> str:
        return self.generation_id


class PostJob(JobPayload):
    post_id: str
    # The `scheduled_at` it was queued for: a post moved or unscheduled since is not
    # published by this job (the new schedule has a job of its own).
    due_at: str

    @property
    def subject_id(self) -> str:
        return self.post_id


class TargetJob(JobPayload):
    target_id: str

    @property
    def subject_id(self) -> str:
        return self.target_id


PAYLOAD_OF: dict[JobName, type[JobPayload]] = {
    JobName.PROCESS_IMAGE: MediaJob,
    JobName.PROCESS_AV: MediaJob,
    JobName.PROCESS_DOCUMENT: MediaJob,
    JobName.MAKE_THUMBNAIL: MediaJob,
    JobName.MAKE_VARIANTS: MediaJob,
    JobName.MAKE_VIDEO_VARIANTS: MediaJob,
    JobName.DELIVER_WEBHOOK: DeliveryJob,
    JobName.GENERATE_MEDIA: GenerationJob,
    JobName.PUBLISH_POST: PostJob,
    JobName.HANDOFF_TIMEOUT: TargetJob,
}
