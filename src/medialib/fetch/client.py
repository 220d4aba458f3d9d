"""Fetching a user-given URL without letting it reach anything private (SSRF), hold a
thread for long, or blow up memory.

- The URL and every address its host resolves to are vetted (`vetting.py`).
- The connection goes to the vetted address; the Host header and TLS SNI (and so the
  certificate check) keep the name in ASCII (IDNA). Redirects are followed by hand and
  vetted again.
- One wall-clock deadline for the whole fetch, headers and body, however slowly the
  origin sends (`deadline.py`), besides the connect and per-read time-outs.
- A byte cap counted on the decoded body as it is produced (`decoding.py`), so neither a
  lying Content-Length nor a stack of compression bombs gets past it.
"""

from __future__ import annotations

import contextlib
import ssl
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import quote, urljoin

import httpcore
import httpx

from medialib.errors import ImportFailed, PayloadTooLarge, UrlNotAllowed
from medialib.fetch.deadline import DeadlineBackend
from medialib.fetch.decoding import decoded, encodings_of
from medialib.fetch.vetting import FetchPolicy, Target, check_target, vet_host

MAX_REDIRECTS = 3


@dataclass
class Fetched:
    url: str
    response: httpx.Response
    deadline: float

    def iter_bytes(self, *, max_bytes: int) -> Iterator[bytes]:
        """The decoded body, cut off past `max_bytes` (counted as it is decoded)."""
        encodings = encodings_of(self.response.headers.get("content-encoding"))
        declared = self.response.headers.get("content-length", "")
        if declared.isdigit() and not encodings and int(declared) > max_bytes:
            raise PayloadTooLarge(max_bytes=max_bytes, size=int(declared))
        seen = 0
        try:
            for piece in decoded(self.response.iter_raw(64 * 1024), encodings):
                seen += len(piece)
                if seen > max_bytes:
                    raise PayloadTooLarge(max_bytes=max_bytes, size=seen)
                yield piece
        except httpx.TimeoutException as exc:
            raise ImportFailed("Fetching the file took too long.", reason="timeout") from exc
        except httpx.HTTPError as exc:
            raise ImportFailed(
                "The connection failed during the download.", reason="network"
            ) from exc


@dataclass(frozen=True, slots=True)
class Answer:
    """A whole answer, read within the deadline and the byte cap."""

    status: int
    headers: dict[str, str]  # names in lower case; a repeated header's last value
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def deadline_for(policy: FetchPolicy, by: float | None = None) -> float:
    """The moment (`time.monotonic()`) a call must end: the policy's time from now, or
    sooner when the caller's own deadline (`by`, e.g. from its request) comes first."""
    own = time.monotonic() + policy.deadline_seconds
    return own if by is None else min(own, by)


def path_segment(value: str) -> str:
    """An id from another server, made safe as one segment of a URL path: every
    reserved character escaped, and dot segments (which a server resolves as "up")
    refused."""
    if value in ("", ".", "..") or len(value) > 1024:
        raise ImportFailed("The server answered with an id that is not usable.", reason="answer")
    return quote(value, safe="")


def query_value(value: str) -> str:
    """A value for a URL's query string, every reserved character escaped."""
    return quote(value, safe="")


def call(
    method: str,
    raw_url: str,
    policy: FetchPolicy,
    *,
    max_bytes: int,
    content: bytes | Iterable[bytes] | None = None,
    headers: dict[str, str] | None = None,
    by: float | None = None,
) -> Answer:
    """One request under the policy (redirects are answers, not followed), its whole
    answer read before the deadline (see `deadline_for`), decoded with every byte
    counted and cut past `max_bytes`. `content` may be an iterable of chunks (a file
    streamed from the store; give its Content-Length in `headers`). Raises `ImportFailed`
    (time-out, network), `UrlNotAllowed` or `PayloadTooLarge`; any status comes back as an
    `Answer`."""
    deadline = deadline_for(policy, by)
    target = check_target(raw_url, policy)
    with _client(policy, deadline) as client:
        response = _send(client, target, policy, method=method, content=content, headers=headers)
        try:
            fetched = Fetched(url=target.url.geturl(), response=response, deadline=deadline)
            body = b"".join(fetched.iter_bytes(max_bytes=max_bytes))
        finally:
            response.close()
    return Answer(
        status=response.status_code,
        headers={name.lower(): value for name, value in response.headers.items()},
        body=body,
    )


@contextlib.contextmanager
def fetch(
    raw_url: str,
    policy: FetchPolicy,
    *,
    client: httpx.Client | None = None,
    by: float | None = None,
) -> Iterator[Fetched]:
    """GET a URL under the policy, following up to three redirects, each one vetted again;
    everything (redirects, headers, body) before the deadline (see `deadline_for`)."""
    deadline = deadline_for(policy, by)
    own = client or _client(policy, deadline)
    current = raw_url
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            target = check_target(current, policy)
            url = target.url
            response = _send(own, target, policy)
            if response.is_redirect and "location" in response.headers:
                response.close()
                current = urljoin(url.geturl(), response.headers["location"])
                continue
            if not response.is_success:
                response.close()
                raise ImportFailed(
                    f"The server answered {response.status_code}.",
                    reason="status",
                    status=response.status_code,
                )
            try:
                yield Fetched(url=url.geturl(), response=response, deadline=deadline)
            finally:
                response.close()
            return
        raise UrlNotAllowed(f"More than {MAX_REDIRECTS} redirects.", reason="redirects")
    finally:
        if client is None:
            own.close()


@dataclass(frozen=True, slots=True)
class Posted:
    """A POST's answer: its status and the start of its body (as text, for a log)."""

    status: int
    excerpt: str


_EXCERPT_BYTES = 1024


def post_json(raw_url: str, body: bytes, headers: dict[str, str], policy: FetchPolicy) -> Posted:
    """POST to a URL under the same policy (webhooks). Redirects are not followed: a 3xx is
    an answer like any other. Of the answer's body only the first KiB is read (asked
    uncompressed, so a small excerpt is never a bomb's first chunk)."""
    target = check_target(raw_url, policy)
    with _client(policy, deadline_for(policy)) as client:
        asked = {**headers, "Accept-Encoding": "identity"}
        response = _send(client, target, policy, method="POST", content=body, headers=asked)
        start = b""
        try:
            # The status is the answer: a body cut short (or timed out) is still an excerpt.
            with contextlib.suppress(httpx.HTTPError):
                for chunk in response.iter_raw():
                    start += chunk
                    if len(start) >= _EXCERPT_BYTES:
                        break
        finally:
            response.close()
        excerpt = start[:_EXCERPT_BYTES].decode("utf-8", errors="replace")
        return Posted(response.status_code, excerpt)


def _client(policy: FetchPolicy, deadline: float) -> httpx.Client:
    """A client whose connections all end by `deadline` (see deadline.py)."""
    transport = httpx.HTTPTransport(retries=0)
    # httpx takes no network backend itself: its pool is replaced by one that has ours.
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        network_backend=DeadlineBackend(deadline),
        max_connections=4,
    )
    timeout = httpx.Timeout(policy.read_timeout, connect=policy.connect_timeout)
    return httpx.Client(
        transport=transport, timeout=timeout, follow_redirects=False, trust_env=False
    )


def _send(
    client: httpx.Client,
    target: Target,
    policy: FetchPolicy,
    *,
    method: str = "GET",
    content: bytes | Iterable[bytes] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    address = vet_host(target.host, target.port, policy)
    host_in_url = f"[{address}]" if address.version == 6 else str(address)
    connect_to = target.url._replace(netloc=f"{host_in_url}:{target.port}").geturl()
    request = client.build_request(
        method,
        connect_to,
        content=content,
        headers={
            "Host": target.host_header,
            "Accept-Encoding": "gzip, deflate",
            "User-Agent": "medialib",
            **(headers or {}),
        },
        extensions={"sni_hostname": target.host} if target.url.scheme == "https" else {},
    )
    try:
        return client.send(request, stream=True)
    except httpx.TimeoutException as exc:
        raise ImportFailed("The server did not answer in time.", reason="timeout") from exc
    except httpx.HTTPError as exc:
        if _certificate_refused(exc):
            raise ImportFailed(
                "The server's certificate is not trusted (self-signed, expired, or for "
                "another name).",
                reason="certificate",
            ) from exc
        raise ImportFailed("The server could not be reached.", reason="network") from exc


def _certificate_refused(exc: BaseException) -> bool:
    """Whether TLS verification is what failed, anywhere in the exception's causes."""
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
