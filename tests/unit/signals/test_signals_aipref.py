"""IETF aipref ``Content-Usage``: the drafts' own examples, header values, and a round trip."""

from __future__ import annotations

import asyncio

import http_sf
import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from traindex.config import Settings
from traindex.signals.aipref import DRAFT, DRAFT_TAG, preference, robots_statement
from traindex.signals.base import Verdict
from traindex.signals.rep import parse_rep
from traindex.signals.service import check_targets

# draft-ietf-aipref-attach, section "Example" (editor's copy @7ca0afc)
ATTACH_EXAMPLE = """User-Agent: *
Allow: /
Disallow: /never/
Content-Usage: train-ai=n
Content-Usage: /ai-ok/ train-ai=y

User-Agent: ExampleBot
Allow: /
Content-Usage: train-ai=y
"""


@pytest.mark.parametrize(
    ("token", "path", "verdict"),
    [
        ("GPTBot", "/test", Verdict.RESERVED),  # the table: /test -> train-ai=n
        ("GPTBot", "/never/test", Verdict.UNKNOWN),  # not crawlable: no preference
        ("GPTBot", "/ai-ok/test", Verdict.ALLOWED),  # longest path wins: train-ai=y
        ("ExampleBot", "/never/test", Verdict.ALLOWED),  # its own group
    ],
)
def test_attach_draft_example(token: str, path: str, verdict: Verdict) -> None:
    got, _ = robots_statement(parse_rep(ATTACH_EXAMPLE), token, "https://example.com" + path)
    assert got is verdict


def test_attach_draft_introduction_example() -> None:
    text = "User-Agent: *\nAllow: /\nContent-Usage: train-ai=n\n"
    assert robots_statement(parse_rep(text), "CCBot", "https://e.com/a.jpg")[0] is Verdict.RESERVED


def test_identical_paths_conflict_most_restrictive() -> None:
    text = "User-Agent: *\nContent-Usage: /a/ train-ai=y\nContent-Usage: /a/ train-ai=n\n"
    assert robots_statement(parse_rep(text), "bot", "https://e.com/a/x")[0] is Verdict.RESERVED


def test_content_usage_does_not_change_crawl_rules() -> None:
    text = "User-agent: GPTBot\nContent-Usage: train-ai=n\nDisallow: /private/\n"
    parsed = parse_rep(text)
    assert parsed.allowed("GPTBot", "https://e.com/public")
    assert not parsed.allowed("GPTBot", "https://e.com/private/a")
    assert parsed.usage == {"gptbot": ("train-ai=n",)}


@pytest.mark.parametrize(
    ("value", "verdict"),
    [
        ("train-ai=n", Verdict.RESERVED),
        ("train-ai=y, search=n", Verdict.ALLOWED),  # vocab §"Exemplary Serialization Format"
        ('train-ai=y, train-ai, search=n, search="n"', Verdict.UNKNOWN),  # duplicates, last wins
        ("train-ai;allow=n, train-ai=y", Verdict.ALLOWED),  # parameters ignored
        ('train-ai;has;parameters="?"', Verdict.UNKNOWN),  # boolean value with parameters
        ("Train-AI=n", Verdict.UNKNOWN),  # uppercase key: the Dictionary fails to parse
        ('train-ai="n"', Verdict.UNKNOWN),  # a String, not a Token
        ("train-ai=(n)", Verdict.UNKNOWN),  # an Inner List
        ("train-ai=no", Verdict.UNKNOWN),  # a Token other than y/n
        ("train-ai=", Verdict.UNKNOWN),  # not a Dictionary
        ("search=n", Verdict.UNKNOWN),  # another category only
    ],
)
def test_header_values(value: str, verdict: Verdict) -> None:
    assert preference(value) is verdict


_values = st.sampled_from(
    [http_sf.Token("y"), http_sf.Token("n"), http_sf.Token("maybe"), True, False, 1, "n", "y"]
)
_keys = st.sampled_from(["train-ai", "search", "train-genai", "x-ext"])


@given(st.dictionaries(_keys, _values, min_size=1, max_size=4))
def test_serialised_preferences_round_trip(prefs: dict[str, object]) -> None:
    """Any Dictionary http-sf serialises reads back to the vocabulary's preference."""
    value = http_sf.ser(prefs)
    member = prefs.get("train-ai")
    expected = Verdict.UNKNOWN
    if isinstance(member, http_sf.Token) and str(member) in ("y", "n"):
        expected = Verdict.ALLOWED if str(member) == "y" else Verdict.RESERVED
    assert preference(value) is expected


ROBOTS = b"User-agent: *\nAllow: /\nContent-Usage: /robots-no/ train-ai=n\n"


def _site(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/robots.txt":
        return httpx.Response(200, content=ROBOTS)
    if request.url.path == "/header-no.jpg":
        return httpx.Response(200, headers={"Content-Usage": "train-ai=n"}, content=b"x")
    if request.url.path == "/two-lines.jpg":
        headers = [("Content-Usage", "train-ai=n"), ("Content-Usage", "train-ai=y")]
        return httpx.Response(200, headers=headers, content=b"x")
    return (
        httpx.Response(404) if request.url.path.endswith((".txt", ".json")) else httpx.Response(200)
    )


async def _resolver(host: str, port: int) -> list[str]:
    return ["93.184.216.34"]


def test_content_usage_reserves_in_the_combined_verdict() -> None:
    urls = [
        f"https://ex.com/{p}"
        for p in ("robots-no/a.jpg", "header-no.jpg", "two-lines.jpg", "ok.jpg")
    ]
    verdicts = asyncio.run(
        check_targets(
            urls, Settings(), ("GPTBot",), transport=httpx.MockTransport(_site), resolver=_resolver
        )
    )
    decided = [(v.verdict, v.decided_by.signal if v.decided_by else None) for v in verdicts]
    assert decided[:2] == [(Verdict.RESERVED, "content-usage"), (Verdict.RESERVED, "content-usage")]
    # two field lines combine into one Dictionary (RFC 9110 §5.3): the last train-ai wins
    assert decided[2] == (Verdict.ALLOWED, "robots.txt")
    usage = next(r for r in verdicts[0].results if r.signal == "content-usage")
    assert (usage.raw, DRAFT in usage.reason) == ("/robots-no/ train-ai=n", True)
    assert "group '*'" in usage.source
    assert usage.to_json()["source"].endswith(DRAFT_TAG)  # JSON and web show the label too
    assert verdicts[3].verdict is Verdict.ALLOWED
