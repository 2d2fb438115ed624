"""Which URLs the signal fetcher may request at all.

A public traindex server checks URLs that strangers type in. Without a policy it becomes a
proxy into the operator's network (``http://10.0.0.5/admin``, ``http://169.254.169.254/``).
So: only ``http``/``https``; no user-info; no whitespace or control characters (they are how
header-injection attempts look); and, when ``refuse_private`` is on, no IP-literal hosts and
no hostnames that resolve to a non-global address. Loopback can be allowed explicitly, which
the tests and benchmarks do. Every hop of a redirect chain goes through the same check.

The addresses a check approves are recorded in ``pins`` (when given), and the fetcher's
connections go to exactly those (``pinning``): a DNS server that answers differently the
second time (rebinding) is never asked a second time. Addresses that embed an IPv4
address (NAT64 ``64:ff9b::/96``, 6to4 ``2002::/16``) are judged by that IPv4 address, and
the local-use NAT64 prefix ``64:ff9b:1::/48`` is never public.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache

import httpx

from traindex.signals.pinning import AddressPins

__all__ = ["AddressPolicy", "Resolver", "UrlRefusedError", "system_resolver"]

Resolver = Callable[[str, int], Awaitable[list[str]]]

_SCHEMES = ("http", "https")
_MAX_PORT = 65535
_CONTROL = re.compile(r"[\x00-\x20\x7f]")


class UrlRefusedError(Exception):
    """The URL may not be fetched; the message says why, for the user."""


async def system_resolver(host: str, port: int) -> list[str]:
    """Addresses for ``host`` from the operating system's resolver."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


@lru_cache(maxsize=8192)
def _parse(raw: str) -> httpx.URL:
    """Cached: a bulk check parses the same URL for the page and each site file."""
    if _CONTROL.search(raw):
        raise UrlRefusedError("URL contains whitespace or control characters (injection?)")
    try:
        url = httpx.URL(raw)
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        raise UrlRefusedError(f"not a valid URL: {exc}") from exc
    if url.scheme not in _SCHEMES:
        raise UrlRefusedError(f"scheme {url.scheme or '(none)'!r} refused: only http and https")
    if not url.host:
        raise UrlRefusedError("URL has no host")
    if url.port is not None and not 0 < url.port <= _MAX_PORT:
        # httpx accepts any number; the socket layer would fail deep inside a task group
        raise UrlRefusedError(f"port {url.port} is out of range (1-{_MAX_PORT})")
    if url.userinfo:
        raise UrlRefusedError("URL with user-info (user:password@) refused")
    return url


_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
IP = ipaddress.IPv4Address | ipaddress.IPv6Address


def _is_public(ip: IP) -> bool:
    """``is_global``, judging an IPv6 address that carries an IPv4 one by the IPv4 one."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64_LOCAL:
            return False
        embedded = ip.sixtofour or ip.ipv4_mapped
        if ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return embedded.is_global
    return ip.is_global


def _literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Refuses URLs by scheme, syntax and (optionally) destination address."""

    refuse_private: bool = True
    allow_loopback: bool = False
    resolver: Resolver = system_resolver
    pins: AddressPins | None = None

    def parse(self, raw: str) -> httpx.URL:
        """Syntax checks that need no network: scheme, control characters, user-info, host."""
        return _parse(raw)

    async def check(self, raw: str) -> httpx.URL:
        """Full check: syntax, then the destination address if private ones are refused."""
        url = self.parse(raw)
        if not self.refuse_private:
            return url
        literal = _literal(url.host)
        if literal is not None:
            if literal.is_loopback and self.allow_loopback:
                return url
            raise UrlRefusedError(f"IP-literal host {url.host} refused (refuse_private_addresses)")
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            addresses = await self.resolver(url.host, port)
        except OSError as exc:
            raise UrlRefusedError(f"cannot resolve host {url.host}: {exc}") from exc
        if not addresses:
            raise UrlRefusedError(f"host {url.host} resolves to no address")
        for address in addresses:
            self._check_address(url.host, address)
        if self.pins is not None:
            self.pins.pin(url.host, addresses)
        return url

    def _check_address(self, host: str, address: str) -> None:
        ip = _literal(address)
        if ip is None:
            raise UrlRefusedError(f"host {host} resolved to unparseable address {address!r}")
        if ip.is_loopback and self.allow_loopback:
            return
        if not _is_public(ip):
            raise UrlRefusedError(f"host {host} resolves to non-public address {address}")
