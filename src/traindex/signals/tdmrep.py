"""W3C TDM Reservation Protocol: ``/.well-known/tdmrep.json``, headers and HTML meta.

Rules from the TDMRep final report: in ``tdmrep.json`` the first rule (array order) whose
``location`` matches wins - not the longest; ``location`` uses robots.txt ``*``/``$``
patterns, case-sensitive, against path and query, both percent-normalised first (RFC 3986
§6.2.2, as the spec requires): escapes of unreserved characters decoded, other escapes'
hex upper-cased, non-ASCII characters encoded, and a literal ``*`` or ``$`` in the URL
encoded (``%2A``/``%24`` is how a location spells them, as in RFC 9309 §2.2.3).

``tdm-reservation`` is ``1`` (reserved) or ``0``; anything else is a protocol error and
leaves the value unset (for the file we stop at that rule). Precedence: file, then the
``tdm-reservation`` header supersedes it, then HTML ``<meta name="tdm-reservation">``
supersedes the header; an absent or invalid value never resets what an earlier step said.
``tdm-policy`` is kept only with reservation ``1``.
"""

from __future__ import annotations

import json
import re
import string
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from urllib.parse import quote, urlsplit

from traindex.signals.base import Basis, CheckContext, CheckResult, Resource, Verdict
from traindex.signals.fetched import FetchResult
from traindex.signals.html_meta import HTML_TYPES, meta_tags

__all__ = [
    "TdmRepChecker",
    "TdmRepError",
    "TdmRule",
    "TdmState",
    "apply_step",
    "location_matches",
    "match_file",
    "normalise",
    "parse_tdmrep_json",
    "path_of",
    "result_for",
]

TDMREP_PATH = "/.well-known/tdmrep.json"


class TdmRepError(ValueError):
    """``tdmrep.json`` is not valid JSON or not an array of rules."""


@dataclass(frozen=True, slots=True)
class TdmRule:
    """One ``tdmrep.json`` entry; ``reservation`` is the raw JSON value (may be invalid)."""

    location: str
    reservation: object
    policy: str | None


@dataclass(frozen=True, slots=True)
class TdmState:
    """The reservation so far (``None`` = unset), its policy, and which step set it."""

    reservation: int | None = None
    policy: str | None = None
    source: str | None = None
    raw: str | None = None


def parse_tdmrep_json(body: bytes) -> list[TdmRule]:
    """Rules in file order; entries without a string ``location`` are skipped."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise TdmRepError(f"tdmrep.json is not valid JSON: {exc}") from exc
    if not isinstance(data, list):
        raise TdmRepError(f"tdmrep.json must be a JSON array, got {type(data).__name__}")
    rules = []
    for item in data:
        if isinstance(item, dict) and isinstance(item.get("location"), str):
            policy = item.get("tdm-policy")
            rules.append(
                TdmRule(
                    item["location"],
                    item.get("tdm-reservation"),
                    policy if isinstance(policy, str) else None,
                )
            )
    return rules


_ESCAPE = re.compile(r"(%[0-9A-Fa-f]{2})")
_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
# Printable ASCII stays as written, except the three characters normalisation must encode.
_LITERAL = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in "%*$")


def _escape(piece: str) -> str:
    char = chr(int(piece[1:], 16))
    return char if char in _UNRESERVED else piece.upper()


def normalise(value: str, *, pattern: bool = False) -> str:
    """``value`` percent-normalised for comparison (RFC 3986 §6.2.2.1-2).

    In a ``pattern``, ``*`` and a trailing ``$`` are operators and stay; in a request URI
    they are data and get encoded, so ``/foo-$`` equals a location ``/foo-%24``.
    """
    anchored = pattern and value.endswith("$")
    body = value[:-1] if anchored else value
    safe = _LITERAL + ("*" if pattern else "")
    pieces = _ESCAPE.split(body)
    text = "".join(
        _escape(piece) if index % 2 else quote(piece, safe=safe)
        for index, piece in enumerate(pieces)
    )
    return text + ("$" if anchored else "")


@lru_cache(maxsize=4096)
def _location_regex(pattern: str) -> re.Pattern[str]:
    normal = normalise(pattern, pattern=True)
    anchored = normal.endswith("$")
    body = normal[:-1] if anchored else normal
    regex = ".*".join(re.escape(part) for part in body.split("*"))
    return re.compile(regex + (r"\Z" if anchored else ""))


def location_matches(pattern: str, path: str) -> bool:
    """robots.txt-style prefix match on normalised forms: ``*`` any run, trailing ``$`` end."""
    return _location_regex(pattern).match(normalise(path)) is not None


def _valid(value: object) -> int | None:
    """``0``/``1`` (JSON number or string, as servers write both); anything else ``None``."""
    if isinstance(value, bool):
        return None
    if value in (0, 1, "0", "1"):
        return int(str(value))
    return None


def match_file(rules: list[TdmRule], path: str, file_url: str) -> TdmState:
    """The state from the first rule matching ``path``; an invalid value leaves it unset."""
    for index, rule in enumerate(rules, start=1):
        if location_matches(rule.location, path):
            value = _valid(rule.reservation)
            source = f"{file_url} rule #{index} location {rule.location!r}"
            raw = json.dumps(rule.reservation)
            if value is None:
                return TdmState(None, None, source, f"invalid tdm-reservation {raw}")
            return TdmState(value, rule.policy, source, raw)
    return TdmState()


def apply_step(state: TdmState, value: str | None, policy: str | None, source: str) -> TdmState:
    """A later, higher-priority step (header, HTML meta) supersedes only with a valid value."""
    reservation = _valid(value.strip()) if value is not None else None
    if reservation is None:
        return state
    return TdmState(reservation, policy if policy is not None else state.policy, source, value)


def path_of(url: str) -> str:
    """Path plus query, the string TDMRep locations are matched against."""
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _state_from_resource(state: TdmState, resource: Resource) -> TdmState:
    headers = resource.header_values("tdm-reservation")
    policies = resource.header_values("tdm-policy")
    if headers:
        header = "1" if any(v.strip() == "1" for v in headers) else headers[0]
        policy = policies[0] if policies else None
        state = apply_step(state, header, policy, "header tdm-reservation")
    if resource.content_type in HTML_TYPES:
        metas = meta_tags(resource.body)
        meta = next((c for n, c in metas if n == "tdm-reservation"), None)
        meta_policy = next((c for n, c in metas if n == "tdm-policy"), None)
        state = apply_step(state, meta, meta_policy, '<meta name="tdm-reservation">')
    return state


def _file_state(fetched: FetchResult, url: str) -> tuple[TdmState, str | None]:
    """State from the fetched file and, if it could not be used, why (``None`` = fine)."""
    if fetched.error is not None:
        return TdmState(), f"tdmrep.json could not be fetched: {fetched.error}"
    status = fetched.status or 0
    if 400 <= status < 500:
        return TdmState(), None
    if not 200 <= status < 300:
        return TdmState(), f"tdmrep.json answered HTTP {status}"
    try:
        rules = parse_tdmrep_json(fetched.body)
    except TdmRepError as exc:
        return TdmState(), str(exc)
    return match_file(rules, path_of(url), fetched.final_url), None


def result_for(
    state: TdmState, problem: str | None, at: datetime | None, file_url: str = TDMREP_PATH
) -> CheckResult:
    """The TDMRep verdict for a resolved state; a file/resource problem keeps unset unknown."""
    signal = TdmRepChecker.signal
    if state.reservation == 1:
        raw = state.raw if state.policy is None else f"{state.raw}; policy={state.policy}"
        why = "TDM rights reserved" + (f" (policy {state.policy})" if state.policy else "")
        src = state.source or "tdmrep"
        return CheckResult(signal, Verdict.RESERVED, Basis.STATEMENT, src, raw, why, at)
    if state.reservation == 0:
        why = "tdm-reservation 0: TDM rights not reserved"
        src = state.source or "tdmrep"
        return CheckResult(signal, Verdict.ALLOWED, Basis.STATEMENT, src, state.raw, why, at)
    if problem is not None:
        src = state.source or file_url
        return CheckResult(signal, Verdict.UNKNOWN, Basis.ERROR, src, state.raw, problem, at)
    why = "no TDMRep statement applies (no matching rule, header or meta)"
    src = state.source or file_url
    return CheckResult(signal, Verdict.UNKNOWN, Basis.ABSENT, src, state.raw, why, at)


class TdmRepChecker:
    """TDMRep for a URL: file at the origin, then headers, then HTML meta."""

    signal = "tdmrep"

    async def check(self, resource: Resource, context: CheckContext) -> CheckResult | None:
        """Resolve the TDMRep precedence chain for ``resource``; ``None`` for local files."""
        if context.fetcher is None or resource.url is None:
            return None
        fetched = await context.fetcher.site_file(resource.url, TDMREP_PATH)
        state, problem = _file_state(fetched, resource.url)
        if resource.error is None:
            state = _state_from_resource(state, resource)
        elif problem is None:
            problem = f"resource headers unavailable: {resource.error}"
        at = resource.fetched_at or fetched.fetched_at
        return result_for(state, problem, at, fetched.final_url)
