"""Fetch one row's image politely and safely, or say exactly why not.

Why the signal checker's ``Fetcher``: its limits are the ones traindex already answers for
(address policy on every redirect hop, bounded redirects, per-host and global concurrency,
a total deadline per request, bodies cut at a size limit, no cookies, no proxies from the
environment). On top of it the downloader adds what a crawler owes a site: a User-Agent
naming traindex, a per-host request rate, robots.txt evaluated for traindex's own token
(its ``Content-Usage: train-ai=n`` rules too, IETF aipref draft: such an image is never
requested), and the image's own reservations (``X-Robots-Tag: noai``/``noimageai``, TDMRep,
a ``Content-Usage`` header) honoured before anything is fingerprinted. Every outcome is a
``Download`` whose ``status`` is ``ok`` or a short reason that coverage reports count
(``HTTP 404``, ``reserved: robots.txt`` ...), with the details in ``detail``.

``download_connect_host`` (tests, benchmarks) connects every request to one address while
keeping the URL's host name (``Host`` header, robots.txt origin), as the registry's
domain verification does; the address policy then allows that address, and only it.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType

import httpx

from traindex.config import Settings
from traindex.download.politeness import HostRate, image_kind
from traindex.signals.aipref import (
    DRAFT,
    ContentUsageChecker,
    combine_preferences,
    robots_usage,
)
from traindex.signals.base import CheckContext, Verdict
from traindex.signals.fetch import Fetcher
from traindex.signals.fetched import FailureKind, FetchResult
from traindex.signals.headers import XRobotsTagChecker
from traindex.signals.policy import Resolver
from traindex.signals.robots import result_from_site_file
from traindex.signals.service import url_resource
from traindex.signals.tdmrep import TdmRepChecker

__all__ = ["CONTENT_USAGE", "Download", "ImageDownloader", "fetch_settings"]

OK = "ok"
CONTENT_USAGE = "reserved: Content-Usage"
_FAILURES = {
    FailureKind.REFUSED: "refused by address policy",
    FailureKind.TIMEOUT: "timeout",
    FailureKind.NETWORK: "network error",
    FailureKind.REDIRECTS: "redirect loop or too many redirects",
}


@dataclass(frozen=True, slots=True)
class Download:
    """One row URL's outcome; ``body`` is set only when ``status`` is ``ok``."""

    url: str
    status: str
    detail: str | None = None
    http_status: int | None = None
    final_url: str | None = None
    content_type: str = ""
    fetched_at: datetime | None = None
    body: bytes = b""

    @property
    def ok(self) -> bool:
        return self.status == OK


class ConnectHostTransport(httpx.AsyncBaseTransport):
    """Send every request to ``host`` (same port and scheme), keeping the ``Host`` header."""

    def __init__(self, host: str, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.host = host
        self.inner = inner or httpx.AsyncHTTPTransport(trust_env=False)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(host=self.host)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def fetch_settings(settings: Settings) -> Settings:
    """The signal fetcher's settings with the downloader's identity and limits."""
    connect = settings.download_connect_host
    loopback = connect is not None and ipaddress.ip_address(connect).is_loopback
    return settings.model_copy(
        update={
            "signals_user_agent": settings.download_user_agent,
            "signals_max_body_bytes": settings.download_max_bytes,
            "signals_concurrency": settings.download_concurrency,
            "signals_per_host_concurrency": settings.download_per_host_concurrency,
            "signals_total_timeout": settings.download_total_timeout,
            "signals_allow_loopback": settings.signals_allow_loopback or loopback,
        }
    )


def _resolver(connect: str) -> Resolver:
    async def resolve(host: str, port: int) -> list[str]:
        return [connect]

    return resolve


class ImageDownloader:
    """Polite, bounded image fetches for one event loop (use as ``async with``)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        connect = settings.download_connect_host
        self.fetcher = Fetcher(
            fetch_settings(settings),
            transport=ConnectHostTransport(connect) if connect else None,
            resolver=_resolver(connect) if connect else None,
        )
        self.context = CheckContext(agents=(settings.download_robots_token,), fetcher=self.fetcher)
        self.rate = HostRate(settings.download_per_host_rate)

    async def __aenter__(self) -> ImageDownloader:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.fetcher.aclose()

    async def get(self, url: str) -> Download:
        """The image at ``url`` unless robots.txt, the response or a limit says no."""
        refused = await self._robots(url)
        if refused is not None:
            return refused
        # parsed already by the robots.txt look-up (the policy caches it): no second parse
        await self.rate.wait(self.fetcher.policy.parse(url).netloc.decode("ascii"))
        fetched = await self.fetcher.fetch(url, self.settings.download_max_bytes)
        return await self._judge(url, fetched)

    async def _robots(self, url: str) -> Download | None:
        fetched = await self.fetcher.site_file(url, "/robots.txt")
        if fetched.failure is FailureKind.REFUSED:  # the image URL itself is refused
            return Download(url, _FAILURES[FailureKind.REFUSED], fetched.error)
        agents = self.context.agents
        result = result_from_site_file("robots.txt", fetched, agents, url, "robots.txt")
        if result.verdict is Verdict.RESERVED:
            return Download(url, "reserved: robots.txt", result.reason, fetched.status)
        if result.verdict is Verdict.UNKNOWN:  # RFC 9309 §2.3.1.4: unreachable -> disallow
            return Download(url, "robots.txt unavailable", result.reason, fetched.status)
        usage = robots_usage(fetched, agents, url)
        if combine_preferences([s.verdict for s in usage]) is Verdict.RESERVED:
            said = next(s for s in usage if s.verdict is Verdict.RESERVED)
            why = f"{said.source}: Content-Usage {said.raw} ({DRAFT})"
            return Download(url, CONTENT_USAGE, why, fetched.status)
        return None

    async def _judge(self, url: str, fetched: FetchResult) -> Download:
        base = Download(
            url, OK, None, fetched.status, fetched.final_url, fetched.content_type,
            fetched.fetched_at,
        )  # fmt: skip
        if fetched.failure is not None:
            return _with(base, _FAILURES[fetched.failure], fetched.error)
        status = fetched.status or 0
        if not 200 <= status < 300:
            return _with(base, f"HTTP {status}", None)
        if fetched.truncated:
            limit = self.settings.download_max_bytes
            return _with(base, "too large", f"body over the {limit:,}-byte limit")
        reserved = await self._reserved(url, fetched)
        if reserved is not None:
            return _with(base, reserved[0], reserved[1])
        kind = image_kind(fetched.content_type, fetched.body)
        if kind is None:
            what = fetched.content_type or "no content type"
            return _with(base, "not an image", f"{what}; bytes are no known image format")
        return Download(
            url, OK, kind, fetched.status, fetched.final_url, fetched.content_type,
            fetched.fetched_at, fetched.body,
        )  # fmt: skip

    async def _reserved(self, url: str, fetched: FetchResult) -> tuple[str, str] | None:
        """The image's own opt-out: X-Robots-Tag noai/noimageai, TDMRep, then a
        ``Content-Usage`` header (its robots.txt rules were read before the request)."""
        resource = url_resource(url, fetched)
        checks = (
            ("reserved: X-Robots-Tag", XRobotsTagChecker()),
            ("reserved: TDM reservation", TdmRepChecker()),
            (CONTENT_USAGE, ContentUsageChecker()),
        )
        for status, checker in checks:
            result = await checker.check(resource, self.context)
            if result is not None and result.verdict is Verdict.RESERVED:
                return status, f"{result.source}: {result.reason}"
        return None


def _with(base: Download, status: str, detail: str | None) -> Download:
    return Download(
        base.url, status, detail, base.http_status, base.final_url, base.content_type,
        base.fetched_at,
    )  # fmt: skip
