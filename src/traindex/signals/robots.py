"""robots.txt (RFC 9309) for AI crawler tokens: protego with RFC group handling (``rep.py``).

Parser choice, measured by ``bench/robots_conformance.py`` (figures in ``docs/signals.md``):
protego's path matching follows RFC 9309 (literal ``%2A``/``%24``, CR line ends, ``//``
paths, implicit ``/robots.txt``) where robotspy 0.13 does not; protego's group handling does
not (it drops ``User-agent: img2dataset/1.4 (+https://...)``, lets unknown lines close groups),
so traindex selects groups itself. With that, traindex passes all RFC examples and issue-15
classes and 137 of Google's 140 vectors (the other 3 follow the RFC's encoding table).

Fetch semantics (RFC 9309 §2.3.1): 2xx is parsed (first ``signals_max_site_file_bytes``,
at least the 500 KiB the RFC requires); 4xx and redirect chains that loop or exceed five hops
mean "unavailable" = allowed; 5xx and network failure mean "unreachable", which the RFC treats
as complete disallow for a crawler, and which a checker reports as ``unknown``, because it
does not know what the site says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from traindex.signals.base import Basis, CheckContext, CheckResult, Resource, Verdict
from traindex.signals.crawlers import is_product_token
from traindex.signals.fetched import FailureKind, FetchResult
from traindex.signals.rep import RepFile, parse_rep

__all__ = [
    "AgentDecision",
    "RobotsChecker",
    "decode_site_text",
    "evaluate",
    "match_token",
    "result_from_site_file",
]

_RAW_LIMIT = 300
_RFC_TOKEN = re.compile(r"[A-Za-z_-]+")


@dataclass(frozen=True, slots=True)
class AgentDecision:
    """Whether ``agent`` may fetch the URL, and which group (token or ``*``) decided."""

    agent: str
    allowed: bool
    group: str | None
    rules: str


def decode_site_text(body: bytes) -> str | None:
    """The file as text, or ``None`` when it is clearly not text (NUL bytes, mostly undecodable).

    RFC 9309 files are UTF-8; a few stray bytes are tolerated (replaced), garbage is not
    silently parsed as "no rules".
    """
    if b"\x00" in body:
        return None
    text = body.decode("utf-8", errors="replace")
    if text and text.count("\ufffd") > max(8, len(text) // 10):
        return None
    return text


def _rules_text(parsed: RepFile, group: str | None) -> str:
    if group is None:
        return "(no group applies)"
    text = "; ".join(parsed.groups.get(group, ())) or "(empty group)"
    return text if len(text) <= _RAW_LIMIT else text[: _RAW_LIMIT - 1] + "…"


def match_token(agent: str) -> str:
    """The part of ``agent`` robots.txt groups can name: up to the first non-RFC character.

    RFC 9309 tokens are letters, ``_`` and ``-``; the RFC (like Google's parser) reads
    ``User-agent: AI2Bot`` as group ``ai``, so ``AI2Bot`` must be looked up as ``AI``.
    Anything that is not a token at all (``Foo Bar``) is left alone and matches no group.
    """
    if not is_product_token(agent):
        return agent
    match = _RFC_TOKEN.match(agent)
    return match.group(0) if match else agent


def evaluate(text: str, agents: tuple[str, ...], url: str) -> list[AgentDecision]:
    """Evaluate ``url`` for each bare product token in ``agents`` against robots.txt ``text``."""
    parsed = parse_rep(text)
    decisions = []
    for agent in agents:
        token = match_token(agent)
        group = parsed.group_for(token)
        allowed = parsed.allowed(token, url)
        decisions.append(AgentDecision(agent, allowed, group, _rules_text(parsed, group)))
    return decisions


def _fetch_failure(signal: str, fetched: FetchResult, file: str) -> CheckResult | None:
    """Verdicts for responses that are not a parseable 2xx, per RFC 9309 §2.3.1."""
    src = fetched.final_url
    at = fetched.fetched_at
    if fetched.failure is FailureKind.REDIRECTS:
        why = f"{file} {fetched.error}: treated as unavailable (RFC 9309 §2.3.1.2), so allowed"
        return CheckResult(signal, Verdict.ALLOWED, Basis.DEFAULT, src, fetched.error, why, at)
    if fetched.error is not None:
        why = f"{file} could not be fetched: {fetched.error}"
        return CheckResult(signal, Verdict.UNKNOWN, Basis.ERROR, src, fetched.error, why, at)
    status = fetched.status or 0
    raw = f"HTTP {status}"
    if 400 <= status < 500:
        why = f"{file} unavailable ({raw}): RFC 9309 allows everything"
        return CheckResult(signal, Verdict.ALLOWED, Basis.DEFAULT, src, raw, why, at)
    if status >= 500:
        why = f"{file} unreachable ({raw}): RFC 9309 crawlers must assume full disallow"
        return CheckResult(signal, Verdict.UNKNOWN, Basis.ERROR, src, raw, why, at)
    if not 200 <= status < 300:
        why = f"{file} answered {raw} without a usable redirect"
        return CheckResult(signal, Verdict.UNKNOWN, Basis.ERROR, src, raw, why, at)
    return None


def result_from_site_file(
    signal: str, fetched: FetchResult, agents: tuple[str, ...], url: str, file: str
) -> CheckResult:
    """Turn a fetched robots-grammar file (robots.txt or ai.txt) into one result.

    Several agents are evaluated; the result is ``reserved`` if any of them is disallowed,
    and names the blocked tokens.
    """
    failed = _fetch_failure(signal, fetched, file)
    if failed is not None:
        return failed
    at, src = fetched.fetched_at, fetched.final_url
    text = decode_site_text(fetched.body)
    if text is None:
        why = f"{file} is not text (binary content); cannot tell what it says"
        return CheckResult(signal, Verdict.UNKNOWN, Basis.ERROR, src, "binary body", why, at)
    cut = ""
    if fetched.truncated:
        text = text.rsplit("\n", 1)[0]
        cut = f" (file cut at {len(fetched.body)} bytes; rules after that ignored)"
    decisions = evaluate(text, agents, url)
    blocked = [d for d in decisions if not d.allowed]
    if blocked:
        first = blocked[0]
        names = ", ".join(d.agent for d in blocked)
        source = f"{src} (group '{first.group}')"
        why = f"{file} disallows {names} for this URL{cut}"
        return CheckResult(
            signal, Verdict.RESERVED, Basis.STATEMENT, source, first.rules, why, at, first.agent
        )
    agent = decisions[0].agent if len(decisions) == 1 else None
    raw = decisions[0].rules if decisions else None
    why = f"{file} allows {', '.join(agents) or 'every agent'} for this URL{cut}"
    return CheckResult(signal, Verdict.ALLOWED, Basis.DEFAULT, src, raw, why, at, agent)


class RobotsChecker:
    """``/robots.txt`` of the URL's origin, evaluated for every agent in the context."""

    signal = "robots.txt"

    async def check(self, resource: Resource, context: CheckContext) -> CheckResult | None:
        """Fetch (cached) and evaluate robots.txt; ``None`` for local files."""
        if context.fetcher is None or resource.url is None:
            return None
        fetched = await context.fetcher.site_file(resource.url, "/robots.txt")
        return result_from_site_file(
            self.signal, fetched, context.agents, resource.url, "robots.txt"
        )
