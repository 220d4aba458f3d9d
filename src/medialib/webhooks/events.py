"""The events a workspace's webhook endpoints can subscribe to."""

from __future__ import annotations

import enum


class EventType(enum.StrEnum):
    MEDIA_READY = "media.ready"
    MEDIA_FAILED = "media.failed"
    MEDIA_DELETED = "media.deleted"
    MEDIA_EXPIRING = "media.expiring"
    MEDIA_PURGED = "media.purged"
