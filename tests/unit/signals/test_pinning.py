"""DNS rebinding and NAT64 (issue 16 item 8): the fetcher connects to the address it
checked, and IPv6 addresses that carry a private IPv4 address count as private."""

from __future__ import annotations

import asyncio
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import ClassVar

import pytest
from tests.conftest import StartServer

from traindex.config import Settings
from traindex.signals.fetch import Fetcher
from traindex.signals.pinning import AddressPins
from traindex.signals.policy import AddressPolicy, UrlRefusedError


async def _answer(address: str) -> list[str]:
    return [address]


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::a00:5",  # NAT64 of 10.0.0.5
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254 (cloud metadata)
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b:1::808:808",  # local-use NAT64 prefix: never public
        "2002:c0a8:101::1",  # 6to4 of 192.168.1.1
    ],
)
def test_ipv6_carrying_a_private_ipv4_is_refused(address: str) -> None:
    policy = AddressPolicy(resolver=lambda h, p: _answer(address))
    with pytest.raises(UrlRefusedError, match="non-public address"):
        asyncio.run(policy.check("https://nat64.example/"))


def test_nat64_of_a_public_ipv4_is_allowed() -> None:
    policy = AddressPolicy(resolver=lambda h, p: _answer("64:ff9b::808:808"))  # 8.8.8.8
    assert asyncio.run(policy.check("https://nat64.example/")).host == "nat64.example"


def test_checked_addresses_are_pinned() -> None:
    pins = AddressPins()
    policy = AddressPolicy(resolver=lambda h, p: _answer("93.184.215.14"), pins=pins)
    asyncio.run(policy.check("https://Example.COM/a"))
    assert pins.get("example.com") == ("93.184.215.14",)


class _Seen(BaseHTTPRequestHandler):
    hosts: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Seen.hosts.append(self.headers["Host"])
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


def test_rebinding_dns_is_asked_once_and_the_checked_address_is_used(
    http_server: StartServer, tmp_path: Path
) -> None:
    """The DNS answers loopback (allowed here) once, then a private address: the fetch
    must go to the checked loopback server, with the name in ``Host``."""
    server = http_server(_Seen)
    port = server.server_address[1]
    answers = ["127.0.0.1", "10.0.0.5"]
    asked: list[str] = []

    async def rebinding(host: str, port: int) -> list[str]:
        asked.append(host)
        return [answers.pop(0) if answers else "10.0.0.5"]

    settings = Settings(home=tmp_path, signals_allow_loopback=True)

    async def fetch() -> int | None:
        async with Fetcher(settings, resolver=rebinding) as fetcher:
            return (await fetcher.fetch(f"http://rebind.invalid:{port}/x")).status

    assert asyncio.run(fetch()) == 200
    assert _Seen.hosts == [f"rebind.invalid:{port}"]
    assert asked == ["rebind.invalid"]
