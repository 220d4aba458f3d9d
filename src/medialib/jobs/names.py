"""Every job medialib runs, and the queue it runs on (queues separate kinds of work)."""

from __future__ import annotations

import enum


class JobName(enum.StrEnum):
    PROCESS_MEDIA = "media.process"


QUEUE_OF: dict[JobName, str] = {
    JobName.PROCESS_MEDIA: "media",
}
