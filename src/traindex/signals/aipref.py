"""IETF AI Preferences: ``Content-Usage`` in robots.txt groups and as an HTTP header field.

A *draft*, labelled as such in every result (``DRAFT``): draft-ietf-aipref-attach and
draft-ietf-aipref-vocab, read from the working group's editor's copies at ietf-wg-aipref/drafts
``7ca0afc`` (2026-08-19; tagged revisions then: attach-05, vocab-07). Rules implemented:

- a statement is an RFC 9651 Dictionary, parsed by ``http-sf`` (no hand-written parser);
  a category's value is the Token ``y`` (allowed) or ``n`` (disallowed); anything else -
  absent key, other token, string, boolean, inner list, a Dictionary that fails to parse
  (uppercase keys included) - is unknown; duplicate keys: the last wins; parameters ignored;
- the header: every ``Content-Usage`` field line, combined as one field (RFC 9110 §5.3);
- robots.txt: ``Content-Usage: [path SP] prefs`` inside a group (the group chosen as for
  Allow/Disallow); the rule with the longest matching path applies (no path = length 0);
  rules of equal length combine most-restrictive-first; a path robots.txt disallows has no
  preference (robots.txt itself then reserves);
- statements combine per the vocabulary's §"Combining Preferences": any ``n`` -> disallowed,
  else any ``y`` -> allowed, else unknown.

traindex reports the ``train-ai`` category: ``n`` is a reservation (counted like any other
signal's), ``y`` an allowance; ``search`` is kept in ``raw`` but decides nothing here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import http_sf

from traindex.signals.base import Basis, CheckContext, CheckResult, Resource, Verdict
from traindex.signals.fetched import FetchResult
from traindex.signals.rep import RepFile, parse_rep
from traindex.signals.robots import decode_site_text, match_token
from traindex.signals.tdmrep import location_matches, normalise, path_of

__all__ = [
    "CATEGORY",
    "DRAFT",
    "DRAFT_TAG",
    "ContentUsageChecker",
    "Statement",
    "combine_preferences",
    "preference",
    "robots_statement",
    "robots_usage",
]

DRAFT = (
    "IETF draft, not final: draft-ietf-aipref-attach/-vocab @7ca0afc (after attach-05, vocab-07)"
)
# Short form in every result's ``source``, so JSON and the web table (which show no reason)
# carry the draft label too.
DRAFT_TAG = "[IETF aipref draft @7ca0afc]"
CATEGORY = "train-ai"
_PATH_END = re.compile(r"[ \t]")


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement of preference for ``train-ai``: where it was found and its raw text."""

    verdict: Verdict
    source: str
    raw: str


def preference(value: str, category: str = CATEGORY) -> Verdict:
    """The preference a serialized statement gives ``category`` (vocab's processing algorithm)."""
    try:
        parsed = http_sf.parse(value.encode("utf-8"), tltype="dictionary")
    except (http_sf.StructuredFieldError, UnicodeEncodeError):
        return Verdict.UNKNOWN
    member = parsed.get(category) if isinstance(parsed, dict) else None
    item = member[0] if isinstance(member, tuple) else None
    if isinstance(item, http_sf.Token) and str(item) in ("y", "n"):
        return Verdict.ALLOWED if str(item) == "y" else Verdict.RESERVED
    return Verdict.UNKNOWN


def combine_preferences(verdicts: list[Verdict]) -> Verdict:
    """Most restrictive wins: any disallow, else any allow, else unknown."""
    if Verdict.RESERVED in verdicts:
        return Verdict.RESERVED
    return Verdict.ALLOWED if Verdict.ALLOWED in verdicts else Verdict.UNKNOWN


def _split(rule: str) -> tuple[str, str]:
    """``(path, prefs)`` of a rule value; the path is present only when it starts with ``/``."""
    if not rule.startswith("/"):
        return "", rule
    cut = _PATH_END.search(rule)
    return (rule, "") if cut is None else (rule[: cut.start()], rule[cut.end() :].strip())


def robots_statement(parsed: RepFile, token: str, url: str) -> tuple[Verdict, str | None]:
    """``train-ai`` preference for ``url`` from the group governing ``token``, and its rule."""
    group = parsed.group_for(token)
    if group is None or not parsed.allowed(token, url):
        return Verdict.UNKNOWN, None
    path = path_of(url)
    matching = []
    for rule in parsed.usage.get(group, ()):
        pattern, prefs = _split(rule)
        if not pattern or location_matches(pattern, path):
            matching.append((len(normalise(pattern, pattern=True)), preference(prefs), rule))
    if not matching:
        return Verdict.UNKNOWN, None
    longest = max(length for length, _, _ in matching)
    chosen = [(verdict, rule) for length, verdict, rule in matching if length == longest]
    verdict = combine_preferences([v for v, _ in chosen])
    return verdict, "; ".join(rule for _, rule in chosen)


def _robots(text: str, agents: tuple[str, ...], url: str, src: str) -> list[Statement]:
    parsed = parse_rep(text)
    found = []
    for agent in agents:
        verdict, rule = robots_statement(parsed, match_token(agent), url)
        if rule is not None:
            group = parsed.group_for(match_token(agent))
            found.append(Statement(verdict, f"{src} (group '{group}', {agent})", rule))
    return found


def robots_usage(robots: FetchResult, agents: tuple[str, ...], url: str) -> list[Statement]:
    """The ``train-ai`` statements a fetched robots.txt makes for ``url`` (none unless it
    answered 2xx with text): what the checker reads, and what the downloader honours
    before it requests an image."""
    ok = robots.status is not None and 200 <= robots.status < 300
    text = decode_site_text(robots.body) if ok else None
    return [] if text is None else _robots(text, agents, url, robots.final_url)


class ContentUsageChecker:
    """``Content-Usage`` (IETF aipref draft) from robots.txt and the URL's response header."""

    signal = "content-usage"

    async def check(self, resource: Resource, context: CheckContext) -> CheckResult | None:
        """Both attachments, combined; ``None`` for local files (no HTTP, no robots.txt)."""
        if context.fetcher is None or resource.url is None:
            return None
        robots = await context.fetcher.site_file(resource.url, "/robots.txt")
        statements = robots_usage(robots, context.agents, resource.url)
        header = ", ".join(resource.header_values("content-usage"))
        if header:
            statements.append(Statement(preference(header), "header Content-Usage", header))
        return _result(statements, resource)


def _result(statements: list[Statement], resource: Resource) -> CheckResult:
    verdict = combine_preferences([s.verdict for s in statements])
    at = resource.fetched_at
    if verdict is Verdict.UNKNOWN:
        said = f" ({len(statements)} statement(s), none with train-ai=y or n)" if statements else ""
        why = f"no Content-Usage train-ai preference{said}; {DRAFT}"
        raw = "; ".join(s.raw for s in statements) or None
        src = f"{resource.source} {DRAFT_TAG}"
        return CheckResult("content-usage", verdict, Basis.ABSENT, src, raw, why, at)
    decided = next(s for s in statements if s.verdict is verdict)
    word = "disallows" if verdict is Verdict.RESERVED else "allows"
    why = f"Content-Usage {word} AI training (train-ai); {DRAFT}"
    src = f"{decided.source} {DRAFT_TAG}"
    return CheckResult("content-usage", verdict, Basis.STATEMENT, src, decided.raw, why, at)
