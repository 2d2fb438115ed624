"""RFC 9309 group handling in front of protego, the robots.txt matcher traindex uses.

Why both: protego (Scrapy's parser) matches paths the way RFC 9309 says (most octets wins,
``*``/``$``, percent-encoding normalised on both sides so ``%2A``/``%24`` stay literal,
``//folder/*`` keeps its double slash, ``/robots.txt`` implicitly allowed, CR/LF/CRLF line
ends). Its *group* handling is not the RFC's, so traindex rewrites the file before protego
sees it and picks the group itself (measured in ``bench/robots_conformance.py``):

- a ``user-agent`` value is reduced to its product token, the part before the first
  character outside ``[A-Za-z_-]`` (``img2dataset/1.4 (+https://...)`` -> ``img2dataset``,
  ``sogou spider`` -> ``sogou``); protego would keep the whole value and never match it;
- only ``user-agent``, ``allow`` and ``disallow`` records (exact names, case-insensitive;
  misspellings such as ``Dissallow`` are not records, per the RFC) are passed on; every
  other line is dropped so it cannot close a group (RFC 9309 §2.2.4; protego closes a group
  on an unknown line);
- the group is chosen by exact, case-insensitive token equality, else the ``*`` group, else
  none (§2.2.1); protego would also let group ``googlebot`` govern ``googlebot-image``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from protego import Protego

__all__ = ["RepFile", "parse_rep", "product_token"]

_LINE_END = re.compile(r"\r\n|\r|\n")
_TOKEN = re.compile(r"[A-Za-z_-]*")
_RECORDS = {
    "user-agent": "User-agent",
    "allow": "Allow",
    "disallow": "Disallow",
    "content-usage": "Content-Usage",  # IETF aipref draft rule, kept for signals/aipref.py
}


def product_token(value: str) -> str:
    """The RFC 9309 product token of a ``user-agent`` value, lower-cased; ``*`` stays ``*``.

    An empty result (``User-agent: 1foo``) still starts a group, one that matches nothing.
    """
    value = value.strip()
    if value.startswith("*"):
        return "*"
    match = _TOKEN.match(value)
    return match.group(0).lower() if match else ""


@dataclass(frozen=True, slots=True)
class RepFile:
    """A parsed robots-grammar file: protego's matcher plus the RFC groups traindex chose.

    ``groups`` maps each product token (and ``*``) to its merged Allow/Disallow lines, in
    file order, for evidence; groups naming the same token are merged (§2.2.1). ``usage``
    holds each group's ``Content-Usage`` rule values (IETF aipref draft), which protego
    never sees.
    """

    matcher: Protego
    groups: dict[str, tuple[str, ...]]
    usage: dict[str, tuple[str, ...]]

    def group_for(self, token: str) -> str | None:
        """The group that governs ``token``: its own, else ``*``, else ``None``."""
        wanted = token.lower()
        if wanted and wanted != "*" and wanted in self.groups:
            return wanted
        return "*" if "*" in self.groups else None

    def allowed(self, token: str, url: str) -> bool:
        """Whether the crawler ``token`` may fetch ``url`` (a full URL or an absolute path)."""
        group = self.group_for(token)
        if group is None:
            return True
        return bool(self.matcher.can_fetch(_query_slashes(url), group))


def _record(line: str) -> tuple[str, str] | None:
    """``(record, value)`` of one line if it is one of the three REP records, else ``None``.

    The RFC's grammar wants ``key: value``; ``key value`` (no colon) is accepted too, as
    Google's parser and protego do, because a site that wrote ``Disallow /`` meant it.
    """
    line = line.split("#", 1)[0].strip()
    key, colon, value = line.partition(":")
    name = key.strip().lower()
    if colon and name in _RECORDS:
        return name, value.strip()
    key, _, value = line.partition(" ")
    name = key.lower()
    return (name, value.strip()) if name in _RECORDS else None


def _query_slashes(value: str) -> str:
    """``%2F`` in the query reads as ``/``: RFC 9309 §2.2.2 encodes both to the same octets.

    protego keeps ``%2F`` apart from ``/`` everywhere (right for the path, where they differ
    per RFC 3986); in the query the RFC's own example makes ``https://`` and
    ``https%3A%2F%2F`` equal, so both the rule and the URL get this one rewrite.
    """
    head, mark, query = value.partition("?")
    return head + mark + re.sub("%2[Ff]", "/", query) if mark else value


@lru_cache(maxsize=512)
def parse_rep(text: str) -> RepFile:
    """Parse once per distinct file: bulk checks evaluate thousands of URLs per host."""
    lines: list[str] = []
    groups: dict[str, list[str]] = {}
    usage: dict[str, list[str]] = {}
    current: list[str] = []
    in_rules = False
    for name, value in filter(None, map(_record, _LINE_END.split(text))):
        if name == "user-agent":
            if in_rules:
                current, in_rules = [], False
            token = product_token(value)
            current.append(token)
            groups.setdefault(token, [])
            usage.setdefault(token, [])
            lines.append(f"User-agent: {token}")
            continue
        in_rules = True
        if name == "content-usage":
            for token in current:
                usage[token].append(value)
            continue
        rule = f"{_RECORDS[name]}: {_query_slashes(value)}"
        lines.append(rule)
        for token in current:
            groups[token].append(rule)
    groups.pop("", None)
    merged = {token: tuple(rules) for token, rules in groups.items()}
    prefs = {token: tuple(values) for token, values in usage.items() if token and values}
    return RepFile(Protego.parse("\n".join(lines)), merged, prefs)
