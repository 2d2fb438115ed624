"""Property tests for every text parser: never crash, deterministic, idempotent.

Idempotent here means: feeding a parser's own normalised output back in gives the same
result (decode of decoded text, directives re-serialised, JSON rules re-dumped, a parsed URL
re-parsed, meta tags re-rendered, a TTL written back as ``max-age``).
"""

from __future__ import annotations

import asyncio
import html
import json
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from traindex.signals.cache import ttl_from_headers
from traindex.signals.headers import Directive, parse_directives
from traindex.signals.html_meta import meta_tags
from traindex.signals.iptc import XmpError, read_rights
from traindex.signals.policy import AddressPolicy, UrlRefusedError
from traindex.signals.robots import decode_site_text, evaluate
from traindex.signals.tdmrep import TdmRepError, location_matches, parse_tdmrep_json

AGENTS = ("GPTBot", "CCBot", "AI2Bot", "*")
robots_lines = st.lists(
    st.one_of(
        st.sampled_from(["User-agent: *", "User-agent: GPTBot", "user-agent: ccbot", "Disallow:"]),
        st.builds("Disallow: {}".format, st.text(max_size=12)),
        st.builds("Allow: {}".format, st.text(max_size=12)),
        st.text(max_size=30),
    ),
    max_size=25,
)
paths = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=0x2FF), max_size=20)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@given(st.binary(max_size=2048))
def test_decode_site_text_is_idempotent(data: bytes) -> None:
    text = decode_site_text(data)
    assert text == decode_site_text(data)
    if text is not None:
        assert decode_site_text(text.encode("utf-8")) == text


@settings(max_examples=150)
@given(robots_lines, paths)
def test_robots_evaluation_never_crashes_and_is_stable(lines: list[str], path: str) -> None:
    text = "\n".join(lines)
    url = "https://ex.com/" + path
    first = evaluate(text, AGENTS, url)
    assert first == evaluate(text, AGENTS, url)
    normalised = decode_site_text(text.encode("utf-8"))
    if normalised is not None:
        assert evaluate(normalised, AGENTS, url) == first


def _key(directives: list[Directive]) -> list[tuple[str | None, str]]:
    return [(d.scope, d.rule) for d in directives]


def _serialise(d: Directive) -> str:
    return d.rule if d.scope is None else f"{d.scope}: {d.rule}"


@given(st.lists(st.text(max_size=40), max_size=5))
def test_directive_parser_is_idempotent(values: list[str]) -> None:
    parsed = parse_directives(values)
    assert _key(parsed) == _key(parse_directives(values))
    assert _key(parse_directives([_serialise(d) for d in parsed])) == _key(parsed)


@given(st.one_of(st.binary(max_size=300), json_values.map(lambda v: json.dumps(v).encode())))
def test_tdmrep_parser_never_crashes_and_is_idempotent(data: bytes) -> None:
    try:
        rules = parse_tdmrep_json(data)
    except TdmRepError:
        return
    dumped = [
        {"location": r.location, "tdm-reservation": r.reservation, "tdm-policy": r.policy}
        for r in rules
    ]
    assert parse_tdmrep_json(json.dumps(dumped).encode()) == rules


@given(st.text(max_size=20), st.text(max_size=30))
def test_location_match_is_deterministic_and_literal_prefix(pattern: str, path: str) -> None:
    result = location_matches(pattern, path)
    assert result == location_matches(pattern, path)
    if "*" not in pattern and not pattern.endswith("$"):
        assert result == path.startswith(pattern)


printable = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=20)


@given(st.binary(max_size=1000))
def test_meta_parser_never_crashes(data: bytes) -> None:
    assert meta_tags(data) == meta_tags(data)


@given(st.lists(st.tuples(printable, printable), max_size=5))
def test_meta_parser_is_idempotent(pairs: list[tuple[str, str]]) -> None:
    doc = "".join(
        f'<meta name="{html.escape(n)}" content="{html.escape(c)}">' for n, c in pairs
    ).encode()
    parsed = meta_tags(doc)
    rerendered = "".join(
        f'<meta name="{html.escape(n)}" content="{html.escape(c)}">' for n, c in parsed
    ).encode()
    assert meta_tags(rerendered) == parsed


@given(st.binary(max_size=500) | printable.map(lambda t: f"<x:xmpmeta>{t}</x:xmpmeta>".encode()))
def test_xmp_reader_never_crashes(packet: bytes) -> None:
    try:
        first = read_rights(packet)
    except XmpError:
        return
    assert read_rights(packet) == first


@given(
    st.lists(
        st.tuples(st.sampled_from(["Cache-Control", "Expires", "Date"]), st.text(max_size=30)),
        max_size=3,
    )
)
def test_ttl_is_bounded_and_idempotent(headers: list[tuple[str, str]]) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    ttl = ttl_from_headers(tuple(headers), 300.0, 3600.0, now)
    assert 0.0 <= ttl <= 3600.0
    if ttl > 0:
        again = ttl_from_headers((("Cache-Control", f"max-age={int(ttl)}"),), 300.0, 3600.0, now)
        assert again == int(ttl)


@given(st.text(max_size=60))
def test_url_policy_never_crashes_and_is_idempotent(raw: str) -> None:
    policy = AddressPolicy(refuse_private=False)
    try:
        url = policy.parse(raw)
    except UrlRefusedError:
        return
    assert policy.parse(str(url)) == url
    assert asyncio.run(policy.check(str(url))) == url
