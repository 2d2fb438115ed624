"""A connection pool split into shards by host, for bulk checks over many hosts.

httpcore's pool looks at every connection for every queued request, so its cost grows with
(connections x requests in flight); a bulk check over hundreds of hosts keeps hundreds of
idle connections and spends most of its time in that scan. Routing each ``host:port`` to one
of a few independent pools keeps every scan short while each host still reuses its own
keep-alive connections. Behaviour is otherwise plain ``httpx.AsyncHTTPTransport``, except
that sockets are opened by a ``PinnedBackend`` when one is given (see ``pinning``).
"""

from __future__ import annotations

import zlib
from typing import Any

import httpcore
import httpx

__all__ = ["ShardedTransport"]


def _pool(tls: object, limits: httpx.Limits, backend: httpcore.AsyncNetworkBackend) -> Any:
    """An httpcore pool like the one ``AsyncHTTPTransport`` builds, with our socket backend
    (httpx offers no argument for it, so its pool is replaced by an equal one)."""
    return httpcore.AsyncConnectionPool(
        ssl_context=tls,  # type: ignore[arg-type]
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        http1=True,
        http2=False,
        network_backend=backend,
    )


class ShardedTransport(httpx.AsyncBaseTransport):
    """``shards`` independent ``AsyncHTTPTransport`` pools, chosen by a stable host hash."""

    def __init__(
        self,
        shards: int,
        keepalive_per_shard: int,
        backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=keepalive_per_shard)
        tls = httpx.create_ssl_context()  # one CA bundle load, not one per shard
        self._shards = [
            httpx.AsyncHTTPTransport(verify=tls, limits=limits, trust_env=False)
            for _ in range(max(1, shards))
        ]
        if backend is not None:
            for shard in self._shards:
                shard._pool = _pool(tls, limits, backend)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` through the pool that owns its ``host:port``."""
        key = request.url.netloc
        shard = self._shards[zlib.crc32(key) % len(self._shards)]
        return await shard.handle_async_request(request)

    async def aclose(self) -> None:
        """Close every shard's connections."""
        for shard in self._shards:
            await shard.aclose()
