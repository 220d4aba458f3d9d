"""The seam every call out of the process goes through: a `Fetcher` (a whole answer, or a
POST whose answer is only its status and an excerpt). `HTTP_FETCHER` makes the real calls
(client.py: vetting, one deadline, bounded decoding); `Runtime.fetcher` carries it to
providers, connectors and webhook deliveries, so a test can hand them a fake (fake.py)
that answers as a given server would, without one. Streaming a URL import stays on
`fetch()` itself: its bounded reading of the wire is what it is for.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from medialib.fetch import client
from medialib.fetch.client import Answer, Posted
from medialib.fetch.vetting import FetchPolicy


class Fetcher(Protocol):
    def call(
        self,
        method: str,
        raw_url: str,
        policy: FetchPolicy,
        *,
        max_bytes: int,
        content: bytes | Iterable[bytes] | None = None,
        headers: dict[str, str] | None = None,
        by: float | None = None,
    ) -> Answer:
        """One request, its whole answer read within the deadline and `max_bytes`
        (see `client.call`); raises `ImportFailed`, `UrlNotAllowed` or `PayloadTooLarge`."""
        ...

    def post_json(
        self, raw_url: str, body: bytes, headers: dict[str, str], policy: FetchPolicy
    ) -> Posted:
        """A POST whose answer is its status and the start of its body (webhooks)."""
        ...


class HttpFetcher:
    """The real calls (client.py)."""

    def call(
        self,
        method: str,
        raw_url: str,
        policy: FetchPolicy,
        *,
        max_bytes: int,
        content: bytes | Iterable[bytes] | None = None,
        headers: dict[str, str] | None = None,
        by: float | None = None,
    ) -> Answer:
        return client.call(
            method,
            raw_url,
            policy,
            max_bytes=max_bytes,
            content=content,
            headers=headers,
            by=by,
        )

    def post_json(
        self, raw_url: str, body: bytes, headers: dict[str, str], policy: FetchPolicy
    ) -> Posted:
        return client.post_json(raw_url, body, headers, policy)


HTTP_FETCHER: Fetcher = HttpFetcher()
