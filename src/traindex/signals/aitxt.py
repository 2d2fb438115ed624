"""Spawning ``ai.txt``: robots.txt grammar at ``/ai.txt``, read when media is downloaded.

There is no formal specification; the format is inferred from Spawning's WordPress generator
and real files (see ``docs/signals.md``): mostly slash-less extension globs (``Disallow:
*.jpg``) plus ``Disallow: /``. It is evaluated with the same RFC 9309 parser as robots.txt,
for the context's agents (falling back to the ``*`` group). Differences from robots.txt: a
missing file (4xx) is "no statement" (``unknown``/absent), not "allowed", because ai.txt
is opt-in to publish and its absence says nothing about training.
"""

from __future__ import annotations

from traindex.signals.base import Basis, CheckContext, CheckResult, Resource, Verdict
from traindex.signals.fetched import FetchResult
from traindex.signals.robots import result_from_site_file

__all__ = ["AiTxtChecker", "evaluate_ai_txt"]


def evaluate_ai_txt(fetched: FetchResult, agents: tuple[str, ...], url: str) -> CheckResult:
    """One result for ``url`` from a fetched ``/ai.txt``."""
    status = fetched.status or 0
    if fetched.error is None and 400 <= status < 500:
        why = f"no ai.txt (HTTP {status}): the site states nothing there"
        return CheckResult(
            AiTxtChecker.signal,
            Verdict.UNKNOWN,
            Basis.ABSENT,
            fetched.final_url,
            f"HTTP {status}",
            why,
            fetched.fetched_at,
        )
    return result_from_site_file(AiTxtChecker.signal, fetched, agents, url, "ai.txt")


class AiTxtChecker:
    """``/ai.txt`` of the URL's origin."""

    signal = "ai.txt"

    async def check(self, resource: Resource, context: CheckContext) -> CheckResult | None:
        """Fetch (cached) and evaluate ai.txt; ``None`` for local files."""
        if context.fetcher is None or resource.url is None:
            return None
        fetched = await context.fetcher.site_file(resource.url, "/ai.txt")
        return evaluate_ai_txt(fetched, context.agents, resource.url)
