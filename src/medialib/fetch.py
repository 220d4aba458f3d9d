"""Fetching a user-given URL without letting it reach anything private (SSRF).

- One parser (`urllib.parse.urlsplit`) for checking and for fetching; `https` only, `http`
  when the operator allows it; no userinfo.
- The host is resolved once; every answer must be a public address. IPv4-mapped, 6to4
  and NAT64 forms are unwrapped first; `not is_global`, 0.0.0.0/8, 100.64.0.0/10,
  169.254.0.0/16 and cloud metadata addresses are refused. With
  MEDIALIB_ALLOW_LOOPBACK_TARGETS (development and tests) 127.0.0.0/8 and ::1 are allowed,
  and nothing else.
- The connection goes to the vetted address; the Host header and TLS SNI (and so the
  certificate check) keep the name. Redirects are followed by hand and vetted again.
- Connect/read time-outs and an overall deadline; a byte cap counted on the decoded body,
  so neither a lying Content-Length nor a compression bomb gets past it.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import SplitResult, urljoin, urlsplit

import httpx

from medialib.errors import ImportFailed, PayloadTooLarge, UrlNotAllowed

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_REDIRECTS = 3
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_ALWAYS_REFUSED = [
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",
        "100.64.0.0/10",
        "169.254.0.0/16",
        "100.100.100.200/32",  # Alibaba Cloud metadata
        "fd00:ec2::254/128",  # AWS metadata over IPv6
    )
]
_LOOPBACK = [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")]


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    allow_http: bool = False
    allow_loopback: bool = False
    connect_timeout: float = 5.0
    read_timeout: float = 20.0
    deadline_seconds: float = 120.0


def check_url(raw: str, policy: FetchPolicy) -> SplitResult:
    try:
        url = urlsplit(raw.strip())
        port = url.port
    except ValueError as exc:
        raise UrlNotAllowed("That is not a valid URL.", reason="invalid") from exc
    schemes = ("https", "http") if policy.allow_http else ("https",)
    if url.scheme not in schemes:
        raise UrlNotAllowed(f"Only {' and '.join(schemes)} URLs can be imported.", reason="scheme")
    if url.username is not None or url.password is not None:
        raise UrlNotAllowed("URLs with a user name or password are refused.", reason="userinfo")
    if not url.hostname:
        raise UrlNotAllowed("The URL has no host.", reason="invalid")
    if port is not None and not 0 < port < 65536:
        raise UrlNotAllowed("The URL's port is not valid.", reason="invalid")
    return url


def unwrap(address: IPAddress) -> IPAddress:
    """The IPv4 address hidden in an IPv4-mapped, 6to4 or NAT64 IPv6 address, if any."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def address_allowed(address: IPAddress, policy: FetchPolicy) -> bool:
    inner = unwrap(address)
    if policy.allow_loopback and inner is address and any(address in n for n in _LOOPBACK):
        return True  # only plain loopback, never a wrapped form of it
    if any(inner in network for network in _ALWAYS_REFUSED):
        return False
    # is_global alone is not enough (Python 3.11 calls multicast global, for one).
    special = (
        inner.is_multicast
        or inner.is_reserved
        or inner.is_unspecified
        or inner.is_link_local
        or inner.is_loopback
        or inner.is_private
    )
    return bool(inner.is_global and address.is_global and not special)


def vet_host(host: str, port: int, policy: FetchPolicy) -> IPAddress:
    """Resolve once; refuse if any answer is not allowed; return the address to connect to."""
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ImportFailed("The URL's host name does not resolve.", reason="dns") from exc
    addresses = [ipaddress.ip_address(str(answer[4][0]).split("%", 1)[0]) for answer in answers]
    refused = [str(a) for a in addresses if not address_allowed(a, policy)]
    if not addresses or refused:
        raise UrlNotAllowed(
            "The URL points at an address that is not public.",
            reason="address",
            address=refused[:1],
        )
    return addresses[0]


@dataclass
class Fetched:
    url: str
    response: httpx.Response
    deadline: float

    def iter_bytes(self, *, max_bytes: int) -> Iterator[bytes]:
        """The decoded body, cut off past `max_bytes` (counted after decompression)."""
        declared = self.response.headers.get("content-length", "")
        encoded = self.response.headers.get("content-encoding", "identity") != "identity"
        if declared.isdigit() and not encoded and int(declared) > max_bytes:
            raise PayloadTooLarge(max_bytes=max_bytes, size=int(declared))
        seen = 0
        try:
            for chunk in self.response.iter_bytes(64 * 1024):
                seen += len(chunk)
                if seen > max_bytes:
                    raise PayloadTooLarge(max_bytes=max_bytes, size=seen)
                if time.monotonic() > self.deadline:
                    raise ImportFailed("Fetching the file took too long.", reason="timeout")
                yield chunk
        except httpx.HTTPError as exc:
            raise ImportFailed(
                "The connection failed during the download.", reason="network"
            ) from exc


@contextlib.contextmanager
def fetch(
    raw_url: str, policy: FetchPolicy, *, client: httpx.Client | None = None
) -> Iterator[Fetched]:
    """GET a URL under the policy, following up to three redirects, each one vetted again."""
    deadline = time.monotonic() + policy.deadline_seconds
    timeout = httpx.Timeout(policy.read_timeout, connect=policy.connect_timeout)
    own = client or httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False)
    current = raw_url
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            url = check_url(current, policy)
            response = _send(own, url, policy)
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


def post_json(raw_url: str, body: bytes, headers: dict[str, str], policy: FetchPolicy) -> int:
    """POST to a URL under the same policy (webhooks); the status code. Redirects are not
    followed: a 3xx is an answer like any other."""
    url = check_url(raw_url, policy)
    timeout = httpx.Timeout(policy.read_timeout, connect=policy.connect_timeout)
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
        response = _send(client, url, policy, method="POST", content=body, headers=headers)
        response.close()
        return response.status_code


def _send(
    client: httpx.Client,
    url: SplitResult,
    policy: FetchPolicy,
    *,
    method: str = "GET",
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    assert url.hostname is not None
    port = url.port or (443 if url.scheme == "https" else 80)
    address = vet_host(url.hostname, port, policy)
    host_in_url = f"[{address}]" if address.version == 6 else str(address)
    target = url._replace(netloc=f"{host_in_url}:{port}").geturl()
    host_header = url.hostname if url.port is None else f"{url.hostname}:{url.port}"
    request = client.build_request(
        method,
        target,
        content=content,
        headers={
            "Host": host_header,
            "Accept-Encoding": "gzip, deflate",
            "User-Agent": "medialib",
            **(headers or {}),
        },
        extensions={"sni_hostname": url.hostname} if url.scheme == "https" else {},
    )
    try:
        return client.send(request, stream=True)
    except httpx.TimeoutException as exc:
        raise ImportFailed("The server did not answer in time.", reason="timeout") from exc
    except httpx.HTTPError as exc:
        raise ImportFailed("The server could not be reached.", reason="network") from exc
