"""RFC 9309 conformance: the RFC's own examples, the issue-15 classes, and properties."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from traindex.signals.rep import parse_rep, product_token
from traindex.signals.robots import evaluate

CASES = json.loads((Path(__file__).parent / "data" / "rfc9309_cases.json").read_text("utf-8"))


def _id(case: dict[str, Any]) -> str:
    return f"{case['source']}|{case['user_agent']}|{case['url']}"


@pytest.mark.parametrize("case", CASES["rfc9309_examples"], ids=_id)
def test_rfc9309_example(case: dict[str, Any]) -> None:
    [decision] = evaluate(case["robotstxt"], (case["user_agent"],), case["url"])
    assert decision.allowed is case["allowed"]


@pytest.mark.parametrize("case", CASES["issue15_classes"], ids=_id)
def test_issue15_class(case: dict[str, Any]) -> None:
    [decision] = evaluate(case["robotstxt"], (case["user_agent"],), case["url"])
    assert decision.allowed is case["allowed"]


def test_merged_group_is_the_evidence() -> None:
    """Same-token groups merge (§2.2.1); ``img2dataset``'s RFC product token is ``img``."""
    text = (
        "User-agent: img2dataset/1.4 (+https://x)\nDisallow: /a\n\nUser-agent: IMG\nDisallow: /b\n"
    )
    [decision] = evaluate(text, ("img2dataset",), "https://ex.com/b/c.jpg")
    assert (decision.allowed, decision.group) == (False, "img")
    assert decision.rules == "Disallow: /a; Disallow: /b"


def test_misspelt_record_is_not_a_rule() -> None:
    """RFC 9309 names three records; protego's typo aliases (``Dissallow``) are not read."""
    assert parse_rep("User-agent: *\nDissallow: /\n").allowed("gptbot", "https://e.com/x")


def test_prefix_group_does_not_govern_a_longer_token() -> None:
    """RFC: exact token equality. protego alone lets ``googlebot`` govern ``googlebot-image``."""
    text = "User-agent: Googlebot\nDisallow: /\n"
    assert parse_rep(text).allowed("Googlebot-Image", "https://e.com/x")
    assert not parse_rep(text).allowed("GOOGLEBOT", "https://e.com/x")


tokens = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-", min_size=1, max_size=12)
tails = st.text(min_size=1, max_size=30).filter(
    lambda t: (
        not (t[0].isascii() and (t[0].isalpha() or t[0] in "_-*")) and not set(t) & set("#\r\n")
    )
)


@given(tokens, tails)
def test_product_token_stops_at_first_non_token_character(token: str, tail: str) -> None:
    assert product_token(token + tail) == token.lower()


@settings(max_examples=100)
@given(tokens, tails, st.sampled_from(["/", "/a/", "/b"]), st.sampled_from(["/a/x", "/b", "/c"]))
def test_text_after_token_never_changes_a_verdict(
    token: str, tail: str, rule: str, path: str
) -> None:
    """``User-agent: X/1.0 (...)`` governs X exactly as ``User-agent: X`` does."""
    before = "User-agent: other\nDisallow: /c\n\n"
    bare = parse_rep(f"{before}User-agent: {token}\nDisallow: {rule}\n")
    tailed = parse_rep(f"{before}User-agent: {token}{tail}\nDisallow: {rule}\n")
    for agent in (token, "other"):
        url = "https://e.com" + path
        assert bare.allowed(agent, url) is tailed.allowed(agent, url)


@given(
    st.lists(st.sampled_from(["/a", "/a/b", "/*.jpg$", "/c?", "/"]), max_size=4),
    st.sampled_from(["/a/b.jpg", "/c?x", "/d", "/a"]),
    st.sampled_from(["\r", "\r\n"]),
)
def test_line_endings_are_equivalent(rules: list[str], path: str, eol: str) -> None:
    lines = ["User-agent: bot", *(f"Disallow: {r}" for r in rules)]
    url = "https://e.com" + path
    lf = parse_rep("\n".join(lines)).allowed("bot", url)
    assert parse_rep(eol.join(lines)).allowed("bot", url) is lf


unreserved = st.text("abcxyzABC019-._~", min_size=1, max_size=10)


@given(unreserved, unreserved, st.data())
def test_percent_encoded_unreserved_characters_match_their_decoding(
    head: str, tail: str, data: st.DataObject
) -> None:
    """RFC 9309 §2.2.2: an encoded unreserved octet in the URI is decoded before comparing."""
    encoded = "".join(f"%{ord(c):02X}" if data.draw(st.booleans()) else c for c in head + tail)
    parsed = parse_rep(f"User-agent: *\nDisallow: /{head}\n")
    assert parsed.allowed("bot", f"https://e.com/{encoded}") is parsed.allowed(
        "bot", f"https://e.com/{head}{tail}"
    )
