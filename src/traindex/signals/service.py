"""The signal-check service: targets in, one ``TargetVerdict`` per target out.

This is what the CLI (and later the API and the filter) call; they hold no logic of their
own. A target is a local file (IPTC and C2PA are read from its bytes) or a URL (all eight
signals, ``Content-Usage`` included: the site files through the shared cache, the URL's own
response for headers, HTML meta and embedded metadata). Bad input never raises here: a
refused scheme, a private address, a missing file or an unreachable host each become an
``unknown`` result that says why. Bulk checks run through a bounded worker pool and keep
the input order.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx

from traindex.config import Settings
from traindex.errors import InputError
from traindex.signals.aipref import ContentUsageChecker
from traindex.signals.aitxt import AiTxtChecker
from traindex.signals.base import Basis, CheckContext, CheckResult, Resource, SignalChecker, Verdict
from traindex.signals.c2pa import C2paChecker
from traindex.signals.crawlers import default_agents, is_product_token
from traindex.signals.fetch import Fetcher
from traindex.signals.fetched import FetchResult
from traindex.signals.headers import MetaRobotsChecker, XRobotsTagChecker
from traindex.signals.iptc import IptcChecker
from traindex.signals.policy import Resolver, UrlRefusedError
from traindex.signals.robots import RobotsChecker
from traindex.signals.tdmrep import TDMREP_PATH, TdmRepChecker
from traindex.signals.verdict import TargetVerdict, combine

__all__ = [
    "FILE_CHECKERS",
    "URL_CHECKERS",
    "check_one",
    "check_targets",
    "is_url",
    "resolve_agents",
    "run_checks",
    "trust_anchors",
    "url_resource",
]

URL_CHECKERS: tuple[SignalChecker, ...] = (
    RobotsChecker(),
    AiTxtChecker(),
    TdmRepChecker(),
    XRobotsTagChecker(),
    MetaRobotsChecker(),
    IptcChecker(),
    C2paChecker(),
    ContentUsageChecker(),
)
FILE_CHECKERS: tuple[SignalChecker, ...] = (IptcChecker(), C2paChecker())
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")
_SITE_FILES = ("/robots.txt", "/ai.txt", TDMREP_PATH)

Progress = Callable[[TargetVerdict], None]


def resolve_agents(agents: Sequence[str]) -> tuple[str, ...]:
    """The crawler tokens to evaluate: the given ones (validated) or the AI-training defaults.

    RFC 9309 matches bare product tokens; a full User-Agent string would silently match no
    group, so it is refused with a hint instead.
    """
    if not agents:
        return default_agents()
    bad = [agent for agent in agents if not is_product_token(agent)]
    if bad:
        raise InputError(
            f"not a robots.txt product token: {bad[0]!r} (letters, digits, '-' and '_', "
            "e.g. GPTBot, not the full User-Agent string)"
        )
    return tuple(dict.fromkeys(agents))


def trust_anchors(settings: Settings) -> str | None:
    """The PEM text of ``signals_c2pa_trust_anchors``, or ``None`` when none is configured."""
    path = settings.signals_c2pa_trust_anchors
    if path is None:
        return None
    try:
        text = Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read C2PA trust anchors {path}: {exc}") from exc
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise InputError(f"C2PA trust anchors {path}: no PEM certificate in the file")
    return text


def is_url(target: str) -> bool:
    """A URL to fetch, not a local file (a path that exists is a file, whatever it looks like)."""
    return bool(_SCHEME.match(target)) and not Path(target).exists()


def _input_problem(target: str, source: str, why: str) -> TargetVerdict:
    result = CheckResult("input", Verdict.UNKNOWN, Basis.ERROR, source, why, why, datetime.now(UTC))
    return combine(target, [result])


def _file_resource(target: str, limit: int) -> Resource | str:
    path = Path(target)
    try:
        with path.open("rb") as handle:
            body = handle.read(limit + 1)
    except OSError as exc:
        return f"cannot read file: {exc.strerror or exc}"
    return Resource(
        target=target,
        source=str(path),
        url=None,
        headers=(),
        body=body[:limit],
        content_type="",
        fetched_at=datetime.now(UTC),
        complete=len(body) <= limit,
    )


def url_resource(target: str, fetched: FetchResult) -> Resource:
    """What checkers read of a fetched URL; a non-2xx answer counts as an error."""
    error = fetched.error
    status = fetched.status or 0
    if error is None and not 200 <= status < 300:
        error = f"HTTP {status}"
    return Resource(
        target=target,
        source=fetched.final_url,
        url=target,
        headers=fetched.headers,
        body=fetched.body,
        content_type=fetched.content_type,
        fetched_at=fetched.fetched_at,
        complete=not fetched.truncated,
        error=error,
    )


async def _run(
    target: str, resource: Resource, checkers: Sequence[SignalChecker], context: CheckContext
) -> TargetVerdict:
    found = await asyncio.gather(*(c.check(resource, context) for c in checkers))
    return combine(target, [r for r in found if r is not None])


async def check_one(target: str, fetcher: Fetcher, context: CheckContext) -> TargetVerdict:
    """Check one URL or file path; never raises for bad input."""
    if not is_url(target):
        loaded = _file_resource(target, fetcher.settings.signals_max_body_bytes)
        if isinstance(loaded, str):
            return _input_problem(target, target, loaded)
        return await _run(target, loaded, FILE_CHECKERS, replace(context, fetcher=None))
    try:
        await fetcher.policy.check(target)
    except UrlRefusedError as exc:
        return _input_problem(target, target, str(exc))
    fetched, *_ = await asyncio.gather(
        fetcher.fetch(target), *(fetcher.site_file(target, p) for p in _SITE_FILES)
    )
    return await _run(target, url_resource(target, fetched), URL_CHECKERS, context)


async def check_targets(
    targets: Sequence[str],
    settings: Settings,
    agents: tuple[str, ...],
    *,
    noindex_reserves: bool = False,
    fetcher: Fetcher | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    resolver: Resolver | None = None,
    progress: Progress | None = None,
) -> list[TargetVerdict]:
    """Check every target with at most ``signals_concurrency`` in flight; input order kept."""
    anchors = trust_anchors(settings)  # before opening anything: a bad path is a user error
    own = fetcher is None
    active = fetcher or Fetcher(settings, transport=transport, resolver=resolver)
    context = CheckContext(agents, active, noindex_reserves, anchors)
    results: list[TargetVerdict | None] = [None] * len(targets)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(len(targets)):
        queue.put_nowait(index)

    async def worker() -> None:
        while not queue.empty():
            index = queue.get_nowait()
            verdict = await check_one(targets[index], active, context)
            results[index] = verdict
            if progress is not None:
                progress(verdict)

    try:
        workers = min(settings.signals_concurrency, max(1, len(targets)))
        await asyncio.gather(*(worker() for _ in range(workers)))
    finally:
        if own:
            await active.aclose()
    return [r for r in results if r is not None]


def run_checks(
    targets: Sequence[str],
    settings: Settings,
    agents: tuple[str, ...],
    *,
    noindex_reserves: bool = False,
    progress: Progress | None = None,
) -> list[TargetVerdict]:
    """Synchronous entry point for the CLI: ``check_targets`` in a fresh event loop."""
    return asyncio.run(
        check_targets(
            targets, settings, agents, noindex_reserves=noindex_reserves, progress=progress
        )
    )
