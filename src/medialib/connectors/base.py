"""What a connector is given and what it answers.

A connector publishes one target of one post: the files the plan chose (their bytes read
from the store as they are sent), the text, and an idempotency key the network can
recognise a repeated attempt by. It answers `Published`, or raises `Refused` (the
network said no: failing again would fail the same way) or `TryLater` (a time-out, a
5xx, a rate limit: the attempt is repeated after `retry_after`, or the publisher's
back-off). Both carry the network's own words.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class OutgoingFile:
    kind: str  # "image" or "video" (an animation is sent as its MP4)
    content_type: str
    size: int
    width: int | None
    height: int | None
    read: Callable[[], Iterator[bytes]]  # the bytes, from the store, as they are sent
    alt_text: str = ""
    duration_ms: int | None = None


@dataclass(frozen=True, slots=True)
class OutgoingPost:
    text: str
    files: list[OutgoingFile]
    idempotency_key: str  # the same for every attempt at this target
    created_at: dt.datetime
    form: str | None = None  # the network's post form the plan chose (images, gallery…)
    langs: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Published:
    remote_id: str
    remote_url: str | None


class ConnectorError(Exception):
    def __init__(self, code: str, message: str, *, network_answer: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.network_answer = network_answer


class Refused(ConnectorError):
    """The network refused; the same attempt would be refused again."""


class TryLater(ConnectorError):
    def __init__(
        self,
        code: str,
        message: str,
        *,
        network_answer: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(code, message, network_answer=network_answer)
        self.retry_after = retry_after


class Connector(Protocol):
    def publish(self, post: OutgoingPost) -> Published: ...
