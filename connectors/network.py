"""Which addresses a connector may reach: the SSRF guard (issue 17).

A source's URL is written by whoever edits `sources.yaml`, and the pages it links
to by whoever runs the API at the other end; neither may turn the service into a
client of what sits beside it (a database's admin port, a cloud metadata service
at 169.254.169.254, an internal tool). So an HTTP connector connects only to
**public** addresses, unless the source's config allows a network by name:

    config:
      url: http://reviews.internal/v1/reviews
      allow_networks: [10.20.0.0/16]     # this source only; CIDR or single addresses

The check is made **after DNS resolution and at connect time**: `GuardedBackend`
(the httpcore network backend of every HTTP connector's client) resolves the host
itself, refuses when *any* address it resolves to is not allowed, and connects to
an address it checked, never to a second resolution of the name — so a name that
resolves to a public address for a check and to a private one for the connection
(DNS rebinding) cannot get through. `HttpSession.get` also checks the peer of the
connection an answer came over (`network_stream` `server_addr`, in a `response`
event hook of the client, before the body is read), and redirects are
never followed (a redirect fails the run), so no hop escapes the check.

Refused (`NetworkRefusedError`, a `FatalError`: never retried, the message names
the host, the address and what to set): loopback, link-local (169.254.0.0/16,
fe80::/10), private (RFC 1918, fc00::/7, 100.64.0.0/10 and the other ranges that
are not globally routable), unspecified (0.0.0.0, ::), multicast, reserved, and
IPv4 addresses carried inside IPv6 (`::ffff:127.0.0.1`, 6to4, NAT64, Teredo,
IPv4-compatible) judged by the IPv4 address they carry. A host written as an
integer or in hex (`http://2130706433/`, `0x7f.1`) is what the resolver makes of
it: 127.0.0.1, refused.

`check_url(url, allow=...)` is the same check for code that sends elsewhere (an
alert webhook): it resolves the URL's host and returns the addresses, or raises.
This module imports nothing of the service; the allowance travels in the caller's
own config.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from connectors.errors import NetworkRefusedError, RetriableError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[..., list[tuple[Any, ...]]]

ALLOW_KEY = "allow_networks"

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def parse_networks(values: Iterable[str | Network]) -> tuple[Network, ...]:
    """CIDR networks (`10.0.0.0/8`) or single addresses (`127.0.0.1`, `::1`); a
    `ValueError` naming the bad one. Host bits are allowed (`10.1.2.3/8` is 10/8)."""
    out: list[Network] = []
    for value in values:
        if isinstance(value, ipaddress.IPv4Network | ipaddress.IPv6Network):
            out.append(value)
            continue
        try:
            out.append(ipaddress.ip_network(str(value).strip(), strict=False))
        except ValueError:
            raise ValueError(
                f"{value!r} is not a network: write a CIDR such as 10.20.0.0/16 or one "
                "address such as 127.0.0.1"
            ) from None
    return tuple(out)


def embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, NAT64, Teredo client,
    IPv4-compatible), or None."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def not_public(address: Address) -> str | None:
    """Why `address` is not a public one ("loopback address", "private address"...),
    or None."""
    inner = embedded_ipv4(address)
    if inner is not None:
        why = not_public(inner)
        return f"{why} ({inner} inside IPv6)" if why else None
    if address.is_unspecified:
        return "unspecified address"
    if address.is_loopback:
        return "loopback address"
    if address.is_link_local:
        return "link-local address"
    if address.is_multicast:
        return "multicast address"
    if address.is_private:
        return "private address"
    if address.is_reserved:
        return "reserved address"
    if not address.is_global:
        return "not globally routable address"
    return None


class NetworkGuard:
    """One source's rule: public addresses, plus the networks its config allows.

    `resolver` defaults to `socket.getaddrinfo` (looked up at each call, so a test
    may replace either); `kind` prefixes the messages."""

    def __init__(
        self,
        allow: Iterable[str | Network] = (),
        *,
        kind: str = "connector",
        resolver: Resolver | None = None,
    ) -> None:
        self.allow = parse_networks(allow)
        self.kind = kind
        self._resolver = resolver

    def allowed(self, address: Address) -> bool:
        inner = embedded_ipv4(address)
        return any(a in net for net in self.allow for a in (address, inner) if a is not None)

    def check_address(self, host: str, address: str | Address) -> Address:
        """`address` (which `host` resolved to, or the peer of a connection to it),
        or `NetworkRefusedError` saying what to set."""
        ip = _address(address)
        why = not_public(ip)
        if why is not None and not self.allowed(ip):
            shown = f"{host} ({ip})" if _address_or_none(host) != ip else str(ip)
            raise NetworkRefusedError(
                f"{self.kind}: refused to connect to {shown}: {_article(why)} {why}. A connector "
                "reaches only public addresses (SSRF guard); if this source is meant to "
                f"read it, add `{ALLOW_KEY}: [{_suggest(ip)}]` to the source's config"
            )
        return ip

    def resolve(self, host: str, port: int) -> list[Address]:
        """Every address `host` resolves to, each checked; refused if any is not
        allowed (a name that answers with a private address among public ones is
        not trusted with either). A name that does not resolve raises
        `socket.gaierror` (an `OSError`)."""
        literal = _address_or_none(host)
        if literal is not None:
            return [self.check_address(host, literal)]
        resolver = self._resolver or socket.getaddrinfo
        infos = resolver(host, port, 0, socket.SOCK_STREAM)
        addresses: list[Address] = []
        for info in infos:
            ip = _address(str(info[4][0]))
            if ip not in addresses:
                addresses.append(ip)
        if not addresses:
            raise socket.gaierror(f"{host} resolves to no address")
        for ip in addresses:
            self.check_address(host, ip)
        return addresses

    def check_url(self, url: str) -> list[Address]:
        """`url`'s host resolved and checked (see `check_url`)."""
        parts = urlsplit(url)
        host = parts.hostname
        if parts.scheme not in ("http", "https") or not host:
            raise NetworkRefusedError(f"{self.kind}: {url!r} is not an http(s) URL")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            return self.resolve(host, port)
        except OSError as exc:
            raise RetriableError(
                f"{self.kind}: cannot resolve {host} ({exc}); is the name right?", delay=60
            ) from None

    def check_peer(self, response: httpx.Response) -> None:
        """The address the answer actually came from, where the transport tells it
        (httpcore's `network_stream` extension): an httpx `response` event hook, run
        when the headers are in and before the body is read. A peer that can no
        longer be read (the server closed the connection) is not judged here; the
        connection was checked when it was made."""
        stream = response.extensions.get("network_stream")
        info = getattr(stream, "get_extra_info", None)
        try:
            peer = info("server_addr") if info is not None else None
        except OSError:
            return
        if isinstance(peer, tuple) and peer and isinstance(peer[0], str):
            self.check_address(response.request.url.host, peer[0])


def check_url(
    url: str,
    *,
    allow: Iterable[str | Network] = (),
    kind: str = "connector",
    resolver: Resolver | None = None,
) -> list[Address]:
    """Resolve `url`'s host and return its addresses if every one may be reached:
    public, or in `allow`. Raises `NetworkRefusedError` (a `FatalError`) for one that
    may not, and `RetriableError` when the name does not resolve (now).

    For code that sends to a configured URL outside a connector (an alert webhook);
    connect to the addresses returned, not to a new resolution of the name."""
    return NetworkGuard(allow, kind=kind, resolver=resolver).check_url(url)


# --------------------------------------------------------------------------- transport


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's sockets, with the guard between the name and the connection:
    resolve, check every address, connect to a checked one (the first that
    answers)."""

    def __init__(self, guard: NetworkGuard) -> None:
        self.guard = guard

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = self.guard.resolve(host, port)
        except OSError as exc:  # not resolvable (now): a connection failure, retried
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
        options = list(socket_options or ())
        failure: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(str(address), port, timeout, local_address, options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    def connect_unix_socket(
        self,
        path: str,  # noqa: ARG002 (httpcore's signature)
        timeout: float | None = None,  # noqa: ARG002
        socket_options: Iterable[Any] | None = None,  # noqa: ARG002
    ) -> httpcore.NetworkStream:
        raise NetworkRefusedError(f"{self.guard.kind}: a connector does not use unix sockets")


class GuardedTransport(httpx.HTTPTransport):
    """`httpx.HTTPTransport` whose connections go through `GuardedBackend`.

    httpx takes no network backend (its pool, httpcore's `ConnectionPool`, does), so
    the pool is built here with the same settings httpx would use. No proxy: a
    proxy would resolve the name itself, out of the guard's sight."""

    def __init__(
        self,
        guard: NetworkGuard,
        *,
        verify: ssl.SSLContext,
        limits: httpx.Limits | None = None,
    ) -> None:
        limits = limits or httpx.Limits(max_connections=10, max_keepalive_connections=5)
        super().__init__(verify=verify, limits=limits, trust_env=False)
        self.guard = guard
        self._pool = httpcore.ConnectionPool(
            ssl_context=verify,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=False,
            network_backend=GuardedBackend(guard),
        )


# --------------------------------------------------------------------------- helpers


def _address(value: str | Address) -> Address:
    if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return value
    return ipaddress.ip_address(value.split("%", 1)[0])  # a zone id (fe80::1%eth0) dropped


def _address_or_none(host: str) -> Address | None:
    try:
        return _address(host.strip("[]"))
    except ValueError:
        return None


def _article(words: str) -> str:
    return "an" if words[:1] in ("a", "e", "i", "o", "u") else "a"


def _suggest(ip: Address) -> str:
    inner = embedded_ipv4(ip)
    target = inner or ip
    return f"{target}/{target.max_prefixlen}"


__all__: Sequence[str] = [
    "ALLOW_KEY",
    "GuardedBackend",
    "GuardedTransport",
    "NetworkGuard",
    "check_url",
    "embedded_ipv4",
    "not_public",
    "parse_networks",
]
