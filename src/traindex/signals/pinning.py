"""Connect to the address the policy checked, not to whatever a second lookup says.

Why: the address policy resolves a host and refuses private destinations; if the HTTP
client then resolved the name again to connect, a DNS server that answers a public
address first and ``10.0.0.5`` next (DNS rebinding) would get the request through. So the
policy records the addresses it approved (``AddressPins``), and the connection pool's
network backend (``PinnedBackend``) opens its sockets to those addresses. The URL is not
rewritten: the pool, the ``Host`` header and TLS (SNI and certificate check) all still use
the host name, so one pooled connection never serves two names.

A name with no pin is refused when pins are required (private addresses refused), rather
than resolved again. Pins are bounded (least recently used first out); a pin dropped
between check and connect only makes that request fail, never go elsewhere.
"""

from __future__ import annotations

import ipaddress
import threading
from collections import OrderedDict
from collections.abc import Iterable

import httpcore

__all__ = ["AddressPins", "PinnedBackend"]

SocketOptions = Iterable[
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
]


class AddressPins:
    """Host name -> the addresses the policy approved for it (thread-safe, bounded)."""

    def __init__(self, max_hosts: int = 100_000) -> None:
        self.max_hosts = max_hosts
        self._lock = threading.Lock()
        self._pins: OrderedDict[str, tuple[str, ...]] = OrderedDict()

    def pin(self, host: str, addresses: Iterable[str]) -> None:
        with self._lock:
            self._pins[host.lower()] = tuple(addresses)
            self._pins.move_to_end(host.lower())
            while len(self._pins) > self.max_hosts:
                self._pins.popitem(last=False)

    def get(self, host: str) -> tuple[str, ...] | None:
        with self._lock:
            return self._pins.get(host.lower())


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Opens TCP connections to pinned addresses; everything else as ``inner`` does it."""

    def __init__(
        self,
        pins: AddressPins,
        *,
        require: bool,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.pins = pins
        self.require = require
        self.inner = inner or httpcore.AnyIOBackend()

    def targets(self, host: str) -> tuple[str, ...]:
        """Where a connection to ``host`` may go (IP literals were checked as such)."""
        pinned = self.pins.get(host)
        if pinned:
            return pinned
        if _is_literal(host) or not self.require:
            return (host,)
        raise httpcore.ConnectError(f"no checked address for host {host} (not connecting)")

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: SocketOptions | None = None,
    ) -> httpcore.AsyncNetworkStream:
        failure: Exception | None = None
        for address in self.targets(host):
            try:
                return await self.inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc  # try the next approved address
        assert failure is not None  # targets() is never empty
        raise failure

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: SocketOptions | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not used by the signal fetcher")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)
