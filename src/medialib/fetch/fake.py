"""A stand-in for `Fetcher` in tests of the code that calls out (providers, connectors,
webhooks): it answers from a script (an `Answer`, a `Posted`, or an exception to raise,
per method and URL) and records every call, body included. It checks the URL against the
policy as the real one does, so a test cannot pass a URL production would refuse. It
makes no connection; use it where the test is about the caller's handling of answers,
and a loopback server where it is about the wire."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from medialib.fetch.client import Answer, Posted
from medialib.fetch.vetting import FetchPolicy, check_url


@dataclass(frozen=True, slots=True)
class Call:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeFetcher:
    # (method, url) -> what that call gets; a missing entry is a test's mistake.
    script: dict[tuple[str, str], Answer | Posted | BaseException] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)

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
        answer = self._answer(method, raw_url, policy, headers, content)
        assert isinstance(answer, Answer), f"{method} {raw_url} is scripted as {answer!r}"
        return answer

    def post_json(
        self, raw_url: str, body: bytes, headers: dict[str, str], policy: FetchPolicy
    ) -> Posted:
        answer = self._answer("POST", raw_url, policy, headers, body)
        assert isinstance(answer, Posted), f"POST {raw_url} is scripted as {answer!r}"
        return answer

    def _answer(
        self,
        method: str,
        raw_url: str,
        policy: FetchPolicy,
        headers: dict[str, str] | None,
        content: bytes | Iterable[bytes] | None,
    ) -> Answer | Posted:
        check_url(raw_url, policy)
        body = content if isinstance(content, bytes) else b"".join(content or [])
        self.calls.append(Call(method, raw_url, dict(headers or {}), body))
        scripted = self.script.get((method, raw_url))
        if scripted is None:
            raise AssertionError(f"no answer scripted for {method} {raw_url}")
        if isinstance(scripted, BaseException):
            raise scripted
        return scripted
