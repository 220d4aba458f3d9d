"""The events a workspace's webhook endpoints can subscribe to."""

from __future__ import annotations

import enum


class EventType(enum.StrEnum):
    MEDIA_READY = "media.ready"
    MEDIA_FAILED = "media.failed"
    MEDIA_DELETED = "media.deleted"
    MEDIA_EXPIRING = "media.expiring"
    MEDIA_PURGED = "media.purged"
    POST_DUE = "post.due"  # a hand-off target's moment: the plan, for the user's publisher
    POST_PUBLISHED = "post.published"  # every target published
    POST_FAILED = "post.failed"  # some or every target failed (each target's outcome)
