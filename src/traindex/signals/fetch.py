"""The one HTTP client every URL signal goes through.

Why one client: limits only mean something if they are shared. The ``Fetcher`` owns one
``httpx`` transport (connection pools) and sends plain requests through it: a clear
User-Agent, no cookies, no proxy/netrc from the environment, and no automatic redirects (each
hop is re-checked by the ``AddressPolicy``, loops and overlong chains end in a named
failure). Why no ``httpx.AsyncClient`` on top: every feature it adds (cookies, redirects,
auth, proxies from the environment) is one traindex turns off, and its per-response
cookie bookkeeping alone cost a downloader ~5 % of its event loop's time. It bounds
requests in flight overall and per ``host:port``, bounds each fetch by connect/read
timeouts *and* a total deadline (a slow-loris server that drips one byte a second never
trips a read timeout), and streams bodies, cutting them at a size limit. Site files
(robots.txt, ai.txt, tdmrep.json) go through the ``SiteFileCache``. Tests inject an
``httpx`` transport and a resolver.

``fetch`` never raises for remote trouble: it returns a ``FetchResult`` whose ``error``
explains what happened, so every checker can turn it into a definite ``unknown``.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime
from types import TracebackType

import httpx

from traindex.config import Settings
from traindex.signals.cache import SiteFileCache
from traindex.signals.fetched import FailureKind, FetchResult
from traindex.signals.pinning import AddressPins, PinnedBackend
from traindex.signals.policy import AddressPolicy, Resolver, UrlRefusedError, system_resolver
from traindex.signals.transport import ShardedTransport

__all__ = ["Fetcher"]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_SHARDS = 16  # see transport.py: keeps httpcore's per-request pool scan short


class Fetcher:
    """Shared, bounded, cached HTTP access for signal checkers (use as ``async with``)."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        self.settings = settings
        pins = AddressPins()
        self.policy = AddressPolicy(
            refuse_private=settings.signals_refuse_private_addresses,
            allow_loopback=settings.signals_allow_loopback,
            resolver=resolver or system_resolver,
            pins=pins,
        )
        keepalive = settings.signals_keepalive_connections
        backend = PinnedBackend(pins, require=settings.signals_refuse_private_addresses)
        self._transport = transport or ShardedTransport(
            _SHARDS, max(1, keepalive // _SHARDS), backend
        )
        self._headers = {
            "User-Agent": settings.signals_user_agent,
            "Accept": "*/*",
            "Accept-Encoding": "gzip, deflate",  # decoded by httpx without optional packages
            "Connection": "keep-alive",
        }
        timeout = httpx.Timeout(
            connect=settings.signals_connect_timeout,
            read=settings.signals_read_timeout,
            write=settings.signals_read_timeout,
            pool=settings.signals_total_timeout,
        )
        self._timeouts = timeout.as_dict()
        self._global = asyncio.Semaphore(settings.signals_concurrency)
        self._per_host: dict[str, asyncio.Semaphore] = {}
        self._host_users: Counter[str] = Counter()
        self.cache = SiteFileCache(settings.signals_cache_ttl, settings.signals_error_ttl)

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pools."""
        await self._transport.aclose()

    async def site_file(self, page_url: str, path: str) -> FetchResult:
        """``path`` (e.g. ``/robots.txt``) at the origin of ``page_url``, via the cache."""
        try:
            url = self.policy.parse(page_url)
        except UrlRefusedError as exc:
            return _failed(page_url, str(exc), FailureKind.REFUSED)
        origin = f"{url.scheme}://{url.netloc.decode('ascii')}"
        limit = self.settings.signals_max_site_file_bytes
        return await self.cache.get(origin, path, lambda: self.fetch(origin + path, limit))

    async def fetch(
        self, raw_url: str, max_bytes: int | None = None, *, follow_redirects: bool = True
    ) -> FetchResult:
        """GET ``raw_url`` within every limit; never raises for remote failures. Without
        ``follow_redirects`` a redirect is the answer (a proof must come from the URL
        itself)."""
        limit = max_bytes if max_bytes is not None else self.settings.signals_max_body_bytes
        return await self._follow(raw_url, limit, follow_redirects)

    async def _follow(self, raw_url: str, limit: int, follow: bool) -> FetchResult:
        seen: list[str] = []
        current = raw_url
        for _hop in range(self.settings.signals_max_redirects + 1):
            try:
                url = await self.policy.check(current)
            except UrlRefusedError as exc:
                return _failed(raw_url, str(exc), FailureKind.REFUSED, current, tuple(seen))
            result = await self._get_once(url, limit)
            if not follow or result.error is not None or result.status not in _REDIRECTS:
                return _with_origin(result, raw_url, tuple(seen))
            location = next((v for k, v in result.headers if k.lower() == "location"), None)
            if location is None:
                return _with_origin(result, raw_url, tuple(seen))
            seen.append(str(url))
            current = str(url.join(location))
            if current in seen:
                message = f"redirect loop back to {current}"
                return _failed(raw_url, message, FailureKind.REDIRECTS, current, tuple(seen))
        hops = self.settings.signals_max_redirects
        message = f"more than {hops} redirects"
        return _failed(raw_url, message, FailureKind.REDIRECTS, current, tuple(seen))

    async def _get_once(self, url: httpx.URL, limit: int) -> FetchResult:
        """One request. The total deadline starts once a slot is held (queueing behind other
        URLs of the same host is not the server's fault); the host slot is taken before the
        global one so a busy host never holds global slots idle."""
        host_key = url.netloc.decode("ascii")
        per_host = self._per_host.setdefault(
            host_key, asyncio.Semaphore(self.settings.signals_per_host_concurrency)
        )
        self._host_users[host_key] += 1
        try:
            return await self._limited(url, limit, per_host)
        finally:
            self._host_users[host_key] -= 1
            if self._host_users[host_key] == 0:  # forget idle hosts: bulk runs see millions
                del self._host_users[host_key]
                del self._per_host[host_key]

    async def _limited(
        self, url: httpx.URL, limit: int, per_host: asyncio.Semaphore
    ) -> FetchResult:
        total = self.settings.signals_total_timeout
        async with per_host, self._global:
            try:
                async with asyncio.timeout(total):
                    return await self._stream(url, limit)
            except TimeoutError:
                message = f"gave up after {total:g} s total (slow or stalled server)"
                return _failed(str(url), message, FailureKind.TIMEOUT)
            except httpx.TimeoutException as exc:
                return _failed(str(url), f"timed out ({type(exc).__name__})", FailureKind.TIMEOUT)
            except (httpx.HTTPError, httpx.StreamError, ValueError) as exc:
                message = f"network error: {type(exc).__name__}: {exc}"
                return _failed(str(url), message, FailureKind.NETWORK)

    async def _stream(self, url: httpx.URL, limit: int) -> FetchResult:
        request = httpx.Request(
            "GET", url, headers=self._headers, extensions={"timeout": self._timeouts}
        )
        response = await self._transport.handle_async_request(request)
        response.request = request
        try:
            fetched_at = datetime.now(UTC)
            chunks: list[bytes] = []
            size = 0
            truncated = False
            if response.status_code not in _REDIRECTS:
                async for chunk in response.aiter_bytes():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > limit:
                        truncated = True
                        break
            body = b"".join(chunks)[:limit]
            return FetchResult(
                url=str(url),
                final_url=str(url),
                status=response.status_code,
                headers=tuple(response.headers.multi_items()),
                body=body,
                truncated=truncated,
                fetched_at=fetched_at,
            )
        finally:
            await response.aclose()


def _failed(
    url: str,
    error: str,
    kind: FailureKind,
    final_url: str | None = None,
    redirects: tuple[str, ...] = (),
) -> FetchResult:
    return FetchResult(
        url=url,
        final_url=final_url or url,
        status=None,
        headers=(),
        body=b"",
        truncated=False,
        fetched_at=datetime.now(UTC),
        error=error,
        failure=kind,
        redirects=redirects,
    )


def _with_origin(result: FetchResult, url: str, redirects: tuple[str, ...]) -> FetchResult:
    return FetchResult(
        url=url,
        final_url=result.final_url,
        status=result.status,
        headers=result.headers,
        body=result.body,
        truncated=result.truncated,
        fetched_at=result.fetched_at,
        error=result.error,
        failure=result.failure,
        redirects=redirects,
    )
