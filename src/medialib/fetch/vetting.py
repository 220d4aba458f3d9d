"""Vetting a user-given URL and its host: one parser (`urllib.parse.urlsplit`) for
checking and for fetching; `https` only (`http` when the operator allows it); no
userinfo; the host resolved once and every answer a public address (IPv4-mapped, 6to4
and NAT64 forms unwrapped first). With MEDIALIB_ALLOW_LOOPBACK_TARGETS (development and
tests) 127.0.0.0/8 and ::1 are allowed, and nothing else."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from medialib.errors import ImportFailed, UrlNotAllowed

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
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
    # False only for servers the operator configured (an AI provider on the company's own
    # network): any address, but the same deadline, caps and decoding as everything else.
    public_only: bool = True


@dataclass(frozen=True, slots=True)
class Target:
    """A checked URL and where it leads: the host in ASCII (IDNA for international names,
    no trailing dot), as the Host header and TLS must carry it, and the port."""

    url: SplitResult
    host: str
    port: int

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.url.port is None else f"{host}:{self.port}"


def check_target(raw: str, policy: FetchPolicy) -> Target:
    url = check_url(raw, policy)
    assert url.hostname is not None
    port = url.port or (443 if url.scheme == "https" else 80)
    return Target(url=url, host=ascii_host(url.hostname), port=port)


def ascii_host(hostname: str) -> str:
    """The host as it goes on the wire; refuses zone ids and names IDNA cannot encode."""
    if "%" in hostname:
        raise UrlNotAllowed("Addresses with a zone are refused.", reason="address")
    host = hostname.rstrip(".") if ":" not in hostname else hostname
    if not host:
        raise UrlNotAllowed("The URL has no host.", reason="invalid")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        encoded = host.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise UrlNotAllowed("The URL's host name is not valid.", reason="invalid") from exc
    if not encoded or len(encoded) > 253:
        raise UrlNotAllowed("The URL's host name is not valid.", reason="invalid")
    return encoded


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
    if not policy.public_only:
        return True
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
    host = ascii_host(host)
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
