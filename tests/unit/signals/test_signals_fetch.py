"""The fetcher over a fake network: limits, redirects, caching, cookies, address policy."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from traindex.signals.cache import ttl_from_headers
from traindex.signals.fetch import Fetcher
from traindex.signals.fetched import FailureKind, FetchResult
from traindex.signals.policy import AddressPolicy, UrlRefusedError

Handler = Callable[[httpx.Request], httpx.Response]


def _get(fetcher: Fetcher, url: str, max_bytes: int | None = None) -> FetchResult:
    async def go() -> FetchResult:
        async with fetcher:
            return await fetcher.fetch(url, max_bytes)

    return asyncio.run(go())


def test_sends_clear_user_agent_and_never_cookies(make_fetcher: Callable[..., Fetcher]) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, headers={"Set-Cookie": "id=1; Path=/"}, content=b"ok")

    async def go() -> None:
        async with make_fetcher(handler) as fetcher:
            await fetcher.fetch("https://ex.com/a")
            await fetcher.fetch("https://ex.com/b")

    asyncio.run(go())
    assert [r.headers.get("cookie") for r in seen] == [None, None]
    assert seen[0].headers["user-agent"].startswith("traindex-signals/")


def test_body_is_cut_at_the_limit(make_fetcher: Callable[..., Fetcher]) -> None:
    fetcher = make_fetcher(lambda r: httpx.Response(200, content=b"x" * 10_000))
    result = _get(fetcher, "https://ex.com/big", max_bytes=1024)
    assert (len(result.body), result.truncated) == (1024, True)


def test_redirect_loop_is_named(make_fetcher: Callable[..., Fetcher]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        target = "/b" if request.url.path == "/a" else "/a"
        return httpx.Response(302, headers={"Location": target})

    result = _get(make_fetcher(handler), "https://ex.com/a")
    assert result.failure is FailureKind.REDIRECTS
    assert result.error is not None
    assert "loop" in result.error


def test_too_many_redirects(make_fetcher: Callable[..., Fetcher]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        step = int(request.url.path.strip("/") or 0)
        return httpx.Response(301, headers={"Location": f"/{step + 1}"})

    result = _get(make_fetcher(handler, signals_max_redirects=3), "https://ex.com/0")
    assert result.failure is FailureKind.REDIRECTS
    assert result.redirects[-1] == "https://ex.com/3"


def test_cross_host_redirect_is_followed_and_rechecked(
    make_fetcher: Callable[..., Fetcher],
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "a.com":
            return httpx.Response(302, headers={"Location": "https://b.com/x"})
        return httpx.Response(200, content=b"b")

    result = _get(make_fetcher(handler), "https://a.com/x")
    assert (result.status, result.final_url, result.body) == (200, "https://b.com/x", b"b")
    assert result.redirects == ("https://a.com/x",)


def test_redirect_to_private_address_is_refused(make_fetcher: Callable[..., Fetcher]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "http://169.254.169.254/"})

    result = _get(make_fetcher(handler), "https://ex.com/")
    assert result.failure is FailureKind.REFUSED
    assert result.error is not None
    assert "IP-literal" in result.error


def test_timeout_becomes_a_failure(make_fetcher: Callable[..., Fetcher]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    result = _get(make_fetcher(handler), "https://ex.com/")
    assert result.failure is FailureKind.TIMEOUT


def test_network_error_becomes_a_failure(make_fetcher: Callable[..., Fetcher]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    result = _get(make_fetcher(handler), "https://ex.com/")
    assert result.failure is FailureKind.NETWORK


def _counting(headers: dict[str, str]) -> tuple[Handler, list[str]]:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.url.host}{request.url.path}")
        return httpx.Response(200, headers=headers, content=b"User-agent: *\nDisallow:\n")

    return handler, calls


def _site_files(fetcher: Fetcher, urls: list[str]) -> None:
    async def go() -> None:
        async with fetcher:
            await asyncio.gather(*(fetcher.site_file(u, "/robots.txt") for u in urls))

    asyncio.run(go())


def test_site_file_fetched_once_per_host(make_fetcher: Callable[..., Fetcher]) -> None:
    handler, calls = _counting({})
    fetcher = make_fetcher(handler)
    urls = [f"https://h{i % 3}.com/img/{i}.jpg" for i in range(60)]
    _site_files(fetcher, urls)
    assert sorted(calls) == ["h0.com/robots.txt", "h1.com/robots.txt", "h2.com/robots.txt"]
    assert fetcher.cache.fetches["/robots.txt"] == 3


def test_no_store_is_honoured(make_fetcher: Callable[..., Fetcher]) -> None:
    handler, calls = _counting({"Cache-Control": "no-store"})
    _site_files(make_fetcher(handler), ["https://h.com/a", "https://h.com/b", "https://h.com/c"])
    assert len(calls) == 3


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ((), 600.0),
        ((("Cache-Control", "public, max-age=60"),), 60.0),
        ((("Cache-Control", "max-age=999999"),), 1000.0),
        ((("cache-control", "no-cache"),), 0.0),
        ((("Expires", "Thu, 01 Jan 2026 00:02:00 GMT"),), 120.0),
        ((("Expires", "0"),), 0.0),
    ],
)
def test_ttl_from_headers(headers: tuple[tuple[str, str], ...], expected: float) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert ttl_from_headers(headers, 600.0, 1000.0, now) == expected


async def _resolve_to(address: str, *_: Any) -> list[str]:
    return [address]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://ex.com/a", "scheme 'ftp' refused"),
        ("file:///etc/passwd", "scheme 'file' refused"),
        ("javascript:alert(1)", "refused"),
        ("http://ex.com/a\r\nX-Robots-Tag: all", "control characters"),
        ("http://user:pw@ex.com/", "user-info"),
        ("http://10.1.2.3/", "IP-literal"),
        ("http://[::1]/", "IP-literal"),
        ("http://127.0.0.1/", "IP-literal"),
    ],
)
def test_policy_refuses(url: str, message: str) -> None:
    policy = AddressPolicy(refuse_private=True, allow_loopback=False)
    with pytest.raises(UrlRefusedError, match=message):
        asyncio.run(policy.check(url))


@pytest.mark.parametrize(
    "address", ["10.0.0.5", "192.168.1.1", "169.254.169.254", "::1", "fc00::1"]
)
def test_names_resolving_to_private_addresses_are_refused(address: str) -> None:
    policy = AddressPolicy(resolver=lambda h, p: _resolve_to(address))
    with pytest.raises(UrlRefusedError, match="non-public address"):
        asyncio.run(policy.check("https://internal.example/"))


def test_loopback_allowed_only_when_asked() -> None:
    allowed = AddressPolicy(allow_loopback=True, resolver=lambda h, p: _resolve_to("127.0.0.1"))
    assert asyncio.run(allowed.check("http://127.0.0.1:8080/")).port == 8080
    assert asyncio.run(allowed.check("http://localhost/")).host == "localhost"
    open_policy = AddressPolicy(refuse_private=False)
    assert asyncio.run(open_policy.check("http://10.0.0.1/")).host == "10.0.0.1"


def test_concurrency_is_bounded_per_host_and_overall(make_fetcher: Callable[..., Fetcher]) -> None:
    in_flight: Counter[str] = Counter()
    peak: Counter[str] = Counter()

    async def handler(request: httpx.Request) -> httpx.Response:
        host = request.url.host
        in_flight[host] += 1
        in_flight["*"] += 1
        peak[host] = max(peak[host], in_flight[host])
        peak["*"] = max(peak["*"], in_flight["*"])
        await asyncio.sleep(0.005)
        in_flight[host] -= 1
        in_flight["*"] -= 1
        return httpx.Response(200, content=b"ok")

    fetcher = make_fetcher(handler, signals_per_host_concurrency=2, signals_concurrency=5)

    async def go() -> None:
        async with fetcher:
            urls = [f"https://h{i % 4}.com/{i}" for i in range(60)]
            await asyncio.gather(*(fetcher.fetch(u) for u in urls))

    asyncio.run(go())
    assert max(peak[f"h{i}.com"] for i in range(4)) == 2
    assert peak["*"] == 5
    assert fetcher._per_host == {}
