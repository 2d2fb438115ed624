"""``X-Robots-Tag`` headers and HTML meta robots: ``noai`` and ``noimageai``.

Grammar (MDN / Google robots meta docs, as the shared vectors' "reference" column): a value is
a comma-separated list of rules; a ``<bot>:`` prefix scopes the rules after it, up to the next
prefix or the end of that header value; unscoped rules apply to every bot; all header
instances count; names and rules are case-insensitive; rules that carry their own value
(``max-snippet: 20``, ``unavailable_after: ...``) are not bot names. Conflicts resolve to the
most restrictive rule. ``noindex``/``noimageindex``/``none`` reserve only when asked
(``CheckContext.noindex_reserves``), as img2dataset does by default.

Where existing tools differ: datadiligence is case-sensitive and reads one header instance;
img2dataset lets only the first prefix scope the whole value and mistakes ``max-snippet`` for
a bot name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from traindex.signals.base import Basis, CheckContext, CheckResult, Resource, Verdict
from traindex.signals.html_meta import HTML_TYPES, meta_tags

__all__ = [
    "Directive",
    "MetaRobotsChecker",
    "XRobotsTagChecker",
    "blocking_directives",
    "parse_directives",
]

_VALUED = frozenset(
    {"max-snippet", "max-image-preview", "max-video-preview", "unavailable_after", "notranslate"}
)
_AI_RULES = frozenset({"noai", "noimageai"})
_INDEX_RULES = frozenset({"noindex", "noimageindex", "none"})


@dataclass(frozen=True, slots=True)
class Directive:
    """One rule (lower-cased) and the bot it is scoped to (``None`` = every bot)."""

    scope: str | None
    rule: str
    value: str


def _split_item(item: str, scope: str | None) -> tuple[str | None, str]:
    """``(scope, rule)`` for one comma-separated item, honouring a ``bot:`` prefix."""
    if ":" not in item:
        return scope, item.lower()
    head, rest = item.split(":", 1)
    if head.strip().lower() in _VALUED:
        return scope, head.strip().lower()
    return head.strip().lower(), rest.strip().lower()


def parse_directives(values: Iterable[str]) -> list[Directive]:
    """Every rule in every value; a ``bot:`` prefix scopes until the next prefix or value end."""
    directives = []
    for value in values:
        scope: str | None = None
        for part in value.split(","):
            item = part.strip()
            if not item:
                continue
            scope, rule = _split_item(item, scope)
            if rule:
                directives.append(Directive(scope, rule, value))
    return directives


def blocking_directives(
    directives: Iterable[Directive], agent: str | None, noindex_reserves: bool = False
) -> list[Directive]:
    """The directives that reserve AI use for ``agent`` (``None``: only unscoped rules)."""
    rules = _AI_RULES | _INDEX_RULES if noindex_reserves else _AI_RULES
    wanted = agent.lower() if agent is not None else None
    return [d for d in directives if d.rule in rules and (d.scope is None or d.scope == wanted)]


def _first_block(
    directives: list[Directive], context: CheckContext
) -> tuple[Directive, str | None] | None:
    agents: tuple[str | None, ...] = context.agents or (None,)
    for agent in agents:
        found = blocking_directives(directives, agent, context.noindex_reserves)
        if found:
            return found[0], agent
    return None


def _evaluate(
    signal: str, directives: list[Directive], resource: Resource, context: CheckContext, what: str
) -> CheckResult:
    at = resource.fetched_at
    hit = _first_block(directives, context)
    if hit is not None:
        directive, agent = hit
        scope = f" for {directive.scope}" if directive.scope else " for every bot"
        why = f"{what} says {directive.rule}{scope}"
        source = f"{resource.source} {what}: {directive.value}"
        return CheckResult(
            signal, Verdict.RESERVED, Basis.STATEMENT, source, directive.value, why, at, agent
        )
    raw = " | ".join(dict.fromkeys(d.value for d in directives)) or None
    why = f"{what} present without noai/noimageai" if raw else f"no {what}"
    source = f"{resource.source} {what}"
    return CheckResult(signal, Verdict.ALLOWED, Basis.DEFAULT, source, raw, why, at)


def _unreadable(signal: str, resource: Resource) -> CheckResult:
    why = f"resource could not be fetched: {resource.error}"
    return CheckResult(
        signal,
        Verdict.UNKNOWN,
        Basis.ERROR,
        resource.source,
        resource.error,
        why,
        resource.fetched_at,
    )


class XRobotsTagChecker:
    """Every ``X-Robots-Tag`` header on the URL's own response."""

    signal = "x-robots-tag"

    async def check(self, resource: Resource, context: CheckContext) -> CheckResult | None:
        """Reserved if any header instance says ``noai``/``noimageai`` for a context agent."""
        if resource.url is None:
            return None
        if resource.error is not None:
            return _unreadable(self.signal, resource)
        directives = parse_directives(resource.header_values("x-robots-tag"))
        return _evaluate(self.signal, directives, resource, context, "X-Robots-Tag header")


def meta_directives(body: bytes, agents: tuple[str, ...]) -> list[Directive]:
    """Directives from ``<meta name="robots">`` and ``<meta name="<agent token>">``."""
    tokens = {agent.lower() for agent in agents}
    directives: list[Directive] = []
    for name, content in meta_tags(body):
        if name == "robots":
            directives.extend(parse_directives([content]))
        elif name in tokens:
            for d in parse_directives([content]):
                directives.append(Directive(name, d.rule, f"<meta name={name}> {content}"))
    return directives


class MetaRobotsChecker:
    """``<meta name="robots">`` and per-bot meta tags in an HTML response."""

    signal = "meta-robots"

    async def check(self, resource: Resource, context: CheckContext) -> CheckResult | None:
        """Reserved if a robots meta tag says ``noai``/``noimageai``; ``None`` if not HTML."""
        if resource.error is not None:
            return None
        if resource.content_type not in HTML_TYPES:
            return None
        directives = meta_directives(resource.body, context.agents)
        return _evaluate(self.signal, directives, resource, context, "HTML meta robots")
