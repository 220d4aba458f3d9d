"""Every job medialib runs, and the queue it runs on. Queues separate kinds of work so a
burst of videos never starves image previews; each queue has its own concurrency."""

from __future__ import annotations

import enum


class JobName(enum.StrEnum):
    PROCESS_IMAGE = "media.process_image"
    PROCESS_AV = "media.process_av"
    PROCESS_DOCUMENT = "media.process_document"
    MAKE_THUMBNAIL = "media.make_thumbnail"
    MAKE_VARIANTS = "media.make_variants"
    MAKE_VIDEO_VARIANTS = "media.make_video_variants"
    DELIVER_WEBHOOK = "webhooks.deliver"
    GENERATE_MEDIA = "generate.media"
    PUBLISH_POST = "publishing.publish_post"
    HANDOFF_TIMEOUT = "publishing.handoff_timeout"


class Queue(enum.StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    DOCUMENT = "document"
    WEBHOOK = "webhook"
    GENERATE = "generate"  # waits on providers: never in the way of processing
    PUBLISH = "publish"  # waits on networks: never in the way of processing


QUEUE_OF: dict[JobName, Queue] = {
    JobName.PROCESS_IMAGE: Queue.IMAGE,
    JobName.PROCESS_AV: Queue.VIDEO,
    JobName.PROCESS_DOCUMENT: Queue.DOCUMENT,
    JobName.MAKE_THUMBNAIL: Queue.VIDEO,
    JobName.MAKE_VARIANTS: Queue.IMAGE,
    JobName.MAKE_VIDEO_VARIANTS: Queue.VIDEO,
    JobName.DELIVER_WEBHOOK: Queue.WEBHOOK,
    JobName.GENERATE_MEDIA: Queue.GENERATE,
    JobName.PUBLISH_POST: Queue.PUBLISH,
    JobName.HANDOFF_TIMEOUT: Queue.PUBLISH,
}
