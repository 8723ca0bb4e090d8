"""The SSRF guard (`connectors.network`): which addresses an HTTP connector may reach.

Nothing here connects to a private or public address: refusals are checked by
resolution alone (the resolver replaced where a name must resolve somewhere), and
the only connections made go to the test's own `FakeServer` on 127.0.0.1.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.errors import ConfigError, FatalError, NetworkRefusedError
from connectors.network import NetworkGuard, check_url, embedded_ipv4, not_public
from connectors.rest import RestConnector
from connectors.testing import LOOPBACK, FakeResponse, FakeServer, ids, instrument, run
from connectors.testing.vendors import FakeRest
from tests.connectors.live import rest_config, rest_records

REFUSED_URLS = [
    ("http://127.0.0.1/", "a loopback address"),
    ("http://127.8.9.10:8080/x", "a loopback address"),
    ("http://localhost:8080/", "a loopback address"),
    ("http://[::1]/", "a loopback address"),
    ("http://10.1.2.3/", "a private address"),
    ("http://172.16.0.1/", "a private address"),
    ("http://172.31.255.254/", "a private address"),
    ("http://192.168.1.1/", "a private address"),
    ("http://169.254.169.254/latest/meta-data/", "a link-local address"),
    ("http://[fe80::1]/", "a link-local address"),
    ("http://[fc00::1]/", "a private address"),
    ("http://[fd12:3456::1]/", "a private address"),
    ("http://0.0.0.0/", "an unspecified address"),
    ("http://[::]/", "an unspecified address"),
    ("http://2130706433/", "a loopback address"),  # 127.0.0.1 as one integer
    ("http://0x7f.1/", "a loopback address"),  # and in hex
    ("http://[::ffff:127.0.0.1]/", "a loopback address (127.0.0.1 inside IPv6)"),
    ("http://[::ffff:169.254.169.254]/", "a link-local address (169.254.169.254 inside IPv6)"),
    ("http://[::ffff:a00:1]/", "a private address (10.0.0.1 inside IPv6)"),
    ("http://[2002:7f00:1::]/", "loopback address (127.0.0.1 inside IPv6"),  # 6to4 of 127.0.0.1
    (
        "http://[64:ff9b::a9fe:a9fe]/",
        "link-local address (169.254.169.254 inside",
    ),  # NAT64 of 169.254.169.254
    ("http://224.0.0.1/", "a multicast address"),
    ("http://[ff02::1]/", "a multicast address"),
    ("http://100.64.0.1/", "a not globally routable address"),  # carrier-grade NAT
    ("http://240.0.0.1/", "a private address"),  # reserved (Python counts it private too)
    ("http://255.255.255.255/", "a private address"),
]


@pytest.mark.parametrize(("url", "why"), REFUSED_URLS)
def test_refused_after_resolution(url: str, why: str) -> None:
    with pytest.raises(NetworkRefusedError) as info:
        check_url(url)  # resolves only: no connection is made
    message = str(info.value)
    assert why in message
    assert "allow_networks" in message
    assert "SSRF" in message


def test_the_message_names_the_host_and_what_to_set() -> None:
    with pytest.raises(NetworkRefusedError) as info:
        check_url("http://localhost:9/", kind="rest")
    assert str(info.value).startswith("rest: refused to connect to localhost (127.0.0.1)")
    assert "`allow_networks: [127.0.0.1/32]`" in str(info.value)
    with pytest.raises(NetworkRefusedError, match=r"allow_networks: \[127\.0\.0\.1/32\]"):
        check_url("http://[::ffff:127.0.0.1]/")  # the IPv4 network is the one to allow


def test_refused_is_fatal_never_retried() -> None:
    assert issubclass(NetworkRefusedError, FatalError)


@pytest.mark.parametrize(
    ("url", "allow"),
    [
        ("http://127.0.0.1:8000/", ["127.0.0.0/8"]),
        ("http://localhost/", ["127.0.0.1"]),
        ("http://[::1]/", ["::1"]),
        ("http://10.20.3.4/", ["10.20.0.0/16"]),
        ("http://[::ffff:10.20.3.4]/", ["10.20.0.0/16"]),  # the mapped form of an allowed one
        ("http://169.254.169.254/", ["169.254.169.254/32"]),
    ],
)
def test_allowed_when_the_network_is_named(url: str, allow: list[str]) -> None:
    assert check_url(url, allow=allow)


def test_another_private_network_allowed_is_not_this_one() -> None:
    with pytest.raises(NetworkRefusedError):
        check_url("http://10.1.2.3/", allow=["10.20.0.0/16", "192.168.0.0/16"])
    with pytest.raises(NetworkRefusedError):
        check_url("http://169.254.169.254/", allow=["10.0.0.0/8"])


def _resolving(answers: dict[str, list[str]]) -> Any:
    """A resolver for made-up names (real ones go to the system resolver)."""
    real = socket.getaddrinfo

    def resolve(host: str, port: Any, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        if host in answers:
            return [
                (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, int(port or 0)))
                for a in answers[host]
            ]  # fmt: skip
        return real(host, port, *args, **kwargs)

    return resolve


def test_a_name_resolving_to_a_private_address_is_refused() -> None:
    resolver = _resolving({"reviews.example": ["10.9.8.7"], "cdn.example": ["93.184.216.34"]})
    with pytest.raises(NetworkRefusedError, match=r"reviews\.example \(10\.9\.8\.7\)"):
        check_url("https://reviews.example/v1", resolver=resolver)
    assert [str(a) for a in check_url("https://cdn.example/", resolver=resolver)] == [
        "93.184.216.34"
    ]


def test_one_private_address_among_public_ones_is_refused() -> None:
    resolver = _resolving({"mixed.example": ["93.184.216.34", "192.168.4.4"]})
    with pytest.raises(NetworkRefusedError, match="192.168.4.4"):
        check_url("https://mixed.example/", resolver=resolver)


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1::248", "8.8.8.8"])
def test_public_addresses_pass(address: str) -> None:
    assert not_public(NetworkGuard().check_address("x", address)) is None


def test_embedded_ipv4_forms() -> None:
    import ipaddress

    for text, inner in [
        ("::ffff:127.0.0.1", "127.0.0.1"),
        ("2002:a00:1::", "10.0.0.1"),
        ("64:ff9b::7f00:1", "127.0.0.1"),
        ("::7f00:1", "127.0.0.1"),
    ]:
        assert str(embedded_ipv4(ipaddress.ip_address(text))) == inner
    assert embedded_ipv4(ipaddress.ip_address("::1")) is None
    assert embedded_ipv4(ipaddress.ip_address("2606:4700::1")) is None


def test_a_bad_network_in_the_config_is_a_config_error(tmp_path: Path) -> None:
    config = {**rest_config("https://api.example.com", "page"), "allow_networks": ["intranet"]}
    with pytest.raises(ConfigError, match=r"allow_networks.*'intranet' is not a network"):
        RestConnector.from_mapping(config, base_dir=tmp_path)


# --------------------------------------------------------------------------- connectors


@pytest.fixture
def reviews(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("LP_TEST_REST_KEY", "k")
    with FakeServer(FakeRest(rest_records(5), style="link", api_key="k")) as server:
        yield server


def _rest(url: str, tmp_path: Path, **config: Any) -> RestConnector:
    base = {key: value for key, value in rest_config(url, "link").items() if key not in LOOPBACK}
    connector = RestConnector.from_mapping({**base, **config}, base_dir=tmp_path)
    instrument(connector)
    assert isinstance(connector, RestConnector)
    return connector


def test_a_connector_refuses_loopback_before_sending_anything(
    reviews: FakeServer, tmp_path: Path
) -> None:
    with pytest.raises(NetworkRefusedError, match="127.0.0.1"):
        run(_rest(reviews.url, tmp_path))
    assert reviews.request_count == 0


def test_the_allowance_is_per_source_and_does_not_leak(reviews: FakeServer, tmp_path: Path) -> None:
    allowed = _rest(reviews.url, tmp_path, allow_networks=["127.0.0.1"])
    other = _rest(reviews.url, tmp_path)
    assert ids(run(allowed)) == ["r1", "r2", "r3", "r4", "r5"]
    served = reviews.request_count
    with pytest.raises(NetworkRefusedError):
        run(other)  # after a source that may, one that may not still may not
    assert ids(run(allowed))
    with pytest.raises(NetworkRefusedError):
        run(other)
    assert reviews.request_count == 2 * served


def test_the_connection_goes_to_the_address_checked(
    reviews: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`reviews.test` exists only for the guard's resolver: the connection reached the
    server, so it went to the address the guard resolved and checked, not to a
    second resolution of the name."""
    calls: list[str] = []
    resolver = _resolving({"reviews.test": ["127.0.0.1"]})

    def counted(host: str, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        calls.append(host)
        return resolver(host, *args, **kwargs)  # type: ignore[no-any-return]

    monkeypatch.setattr(socket, "getaddrinfo", counted)
    url = reviews.url.replace("127.0.0.1", "reviews.test")
    with pytest.raises(NetworkRefusedError, match=r"reviews\.test \(127\.0\.0\.1\)"):
        run(_rest(url, tmp_path))
    assert reviews.request_count == 0
    assert ids(run(_rest(url, tmp_path, allow_networks=["127.0.0.0/8"])))
    assert reviews.requests[0].headers["host"].startswith("reviews.test:")
    assert "reviews.test" in calls


def test_dns_rebinding_between_a_check_and_the_connection_is_caught(
    reviews: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The name passes a check (public), then answers loopback when the connector
    connects: the connector's own check, made at connect time, refuses it."""
    answers = {"rebind.test": ["93.184.216.34"]}
    monkeypatch.setattr(socket, "getaddrinfo", _resolving(answers))
    url = reviews.url.replace("127.0.0.1", "rebind.test")
    assert check_url(url)  # resolution only: nothing connects to the public address
    answers["rebind.test"] = ["127.0.0.1"]
    with pytest.raises(NetworkRefusedError, match=r"rebind\.test \(127\.0\.0\.1\)"):
        run(_rest(url, tmp_path))
    assert reviews.request_count == 0


class _Stream:
    def __init__(self, peer: tuple[str, int]) -> None:
        self.peer = peer

    def get_extra_info(self, name: str) -> Any:
        return self.peer if name == "server_addr" else None


@pytest.mark.parametrize(("peer", "allow"), [("10.0.0.7", []), ("::ffff:127.0.0.1", ["::1"])])
def test_the_peer_of_the_connection_is_checked_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, peer: str, allow: list[str]
) -> None:
    """Whatever the transport, an answer that came from a refused address is refused
    (the transport tells the peer as httpcore does: `network_stream`)."""
    monkeypatch.setenv("LP_TEST_REST_KEY", "k")
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        body = FakeResponse.json({"data": {"reviews": rest_records(2)}}).payload()
        return httpx.Response(200, content=body, extensions={"network_stream": _Stream((peer, 80))})

    connector = _rest("https://api.example.com", tmp_path, allow_networks=allow)
    connector.transport = httpx.MockTransport(answer)
    clock = instrument(connector)
    with pytest.raises(NetworkRefusedError, match=peer.split(":")[-1]):
        run(connector)
    assert len(asked) == 1  # never retried
    assert clock.sleeps == []
    connector = _rest("https://api.example.com", tmp_path, allow_networks=[peer])
    connector.transport = httpx.MockTransport(answer)
    assert ids(run(connector)) == ["r1", "r2"]


def test_a_redirect_to_the_metadata_address_is_not_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LP_TEST_REST_KEY", "k")
    moved = FakeResponse(302, b"", {"Location": "http://169.254.169.254/latest/meta-data/"})
    with FakeServer(lambda request: moved) as server:
        connector = _rest(server.url, tmp_path, **LOOPBACK)
        with pytest.raises(FatalError, match="redirects"):
            run(connector)
        assert server.request_count == 1
