"""robots.txt: Google's conformance vectors, the AI-crawler vectors, RFC 9309 fetch rules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from traindex.signals.base import Basis, Verdict
from traindex.signals.crawlers import crawler_source, crawlers, default_agents, is_product_token
from traindex.signals.fetched import FailureKind, FetchResult
from traindex.signals.robots import decode_site_text, evaluate, result_from_site_file

# Deliberate deviations from google/robotstxt, documented in docs/signals.md: Google's
# parser wants the caller to percent-encode the URL and does not decode %62%61%7A; RFC 9309
# §2.2.2 (its encoding table) normalises both sides, so traindex matches in these three.
DEVIATIONS = {
    ("ID_Encoding", "http://foo.bar/foo/bar/ツ", "Allow: /foo/bar/ツ"),
    ("ID_Encoding", "http://foo.bar/foo/bar/ツ", "Allow: /foo/bar/%E3%83%84"),
    ("ID_Encoding", "http://foo.bar/foo/bar/baz", "Allow: /foo/bar/%62%61%7A"),
}


def _deviation(case: dict[str, Any]) -> bool:
    return any(
        case["test"] == test and case["url"] == url and rule in case["robotstxt"]
        for test, url, rule in DEVIATIONS
    )


def test_vector_files_are_complete(
    shared_data: Path, vector_file: Callable[[str], list[dict[str, Any]]]
) -> None:
    assert len(vector_file("google_robotstxt_vectors.json")) == 140
    assert len(vector_file("ai_crawler_robotstxt_vectors.json")) == 18


@pytest.mark.shared
@pytest.mark.vectors("google_robotstxt_vectors.json")
def test_google_conformance_vector(case: dict[str, Any], shared_data: Path) -> None:
    """137 of 140 must match; the 3 documented deviations must still deviate exactly."""
    [decision] = evaluate(case["robotstxt"], (case["user_agent"],), case["url"])
    expected = not case["allowed"] if _deviation(case) else case["allowed"]
    assert decision.allowed is expected


def test_exactly_three_google_cases_are_deviations(
    shared_data: Path, vector_file: Callable[[str], list[dict[str, Any]]]
) -> None:
    assert sum(_deviation(case) for case in vector_file("google_robotstxt_vectors.json")) == 3


@pytest.mark.shared
@pytest.mark.vectors("ai_crawler_robotstxt_vectors.json")
def test_ai_crawler_vector(case: dict[str, Any], shared_data: Path) -> None:
    [decision] = evaluate(case["robotstxt"], (case["user_agent"],), case["url"])
    assert decision.allowed is case["allowed"]


def _fetched(
    status: int | None = 200,
    body: bytes = b"",
    error: str | None = None,
    failure: FailureKind | None = None,
    truncated: bool = False,
) -> FetchResult:
    return FetchResult(
        url="https://ex.com/robots.txt",
        final_url="https://ex.com/robots.txt",
        status=status,
        headers=(),
        body=body,
        truncated=truncated,
        fetched_at=datetime(2026, 1, 1, tzinfo=UTC),
        error=error,
        failure=failure,
    )


def _check(fetched: FetchResult, agents: tuple[str, ...] = ("GPTBot",)) -> Any:
    return result_from_site_file(
        "robots.txt", fetched, agents, "https://ex.com/a.jpg", "robots.txt"
    )


def test_4xx_means_allowed_by_default() -> None:
    result = _check(_fetched(404))
    assert (result.verdict, result.basis, result.raw) == (
        Verdict.ALLOWED,
        Basis.DEFAULT,
        "HTTP 404",
    )


def test_5xx_is_unknown_and_says_so() -> None:
    result = _check(_fetched(503))
    assert (result.verdict, result.basis) == (Verdict.UNKNOWN, Basis.ERROR)
    assert "unreachable" in result.reason


def test_network_failure_is_unknown() -> None:
    result = _check(_fetched(None, error="timed out", failure=FailureKind.TIMEOUT))
    assert result.verdict is Verdict.UNKNOWN
    assert result.raw == "timed out"


def test_redirect_overflow_counts_as_unavailable() -> None:
    result = _check(_fetched(None, error="more than 5 redirects", failure=FailureKind.REDIRECTS))
    assert (result.verdict, result.basis) == (Verdict.ALLOWED, Basis.DEFAULT)
    assert "RFC 9309" in result.reason


def test_binary_garbage_is_unknown_not_allowed() -> None:
    result = _check(_fetched(200, bytes(range(256)) * 40))
    assert result.verdict is Verdict.UNKNOWN
    assert "not text" in result.reason


def test_reservation_names_blocked_tokens_and_group() -> None:
    body = b"User-agent: *\nAllow: /\n\nUser-agent: CCBot\nUser-agent: GPTBot\nDisallow: /\n"
    result = _check(_fetched(200, body), ("ClaudeBot", "GPTBot", "CCBot"))
    assert result.verdict is Verdict.RESERVED
    assert result.user_agent == "GPTBot"
    assert "GPTBot, CCBot" in result.reason
    assert result.raw == "Disallow: /"
    assert "group 'gptbot'" in result.source


def test_truncated_file_drops_partial_last_line() -> None:
    body = b"User-agent: GPTBot\nDisallow: /\n# " + b"x" * 100 + b"\nDisallow: /priv"
    result = _check(_fetched(200, body, truncated=True))
    assert result.verdict is Verdict.RESERVED
    assert "cut at" in result.reason


def test_decode_site_text_tolerates_a_few_bad_bytes() -> None:
    assert decode_site_text(b"User-agent: *\n# caf\xe9\nDisallow: /\n") is not None
    assert decode_site_text(b"a\x00b") is None


def test_crawler_list_is_data_with_a_source() -> None:
    tokens = {c.token for c in crawlers()}
    assert {"GPTBot", "CCBot", "Google-Extended", "ClaudeBot"} <= tokens
    assert "GPTBot" in default_agents()
    assert "Googlebot" not in default_agents()
    assert "ai.robots.txt" in crawler_source()
    assert all(is_product_token(t) for t in tokens)
    assert not is_product_token("Mozilla/5.0 (compatible; GPTBot/1.1)")


def test_token_with_digit_matches_group_as_rfc_parsers_read_it() -> None:
    [decision] = evaluate("User-agent: AI2Bot\nDisallow: /\n", ("AI2Bot",), "https://ex.com/a")
    assert decision.allowed is False
    [other] = evaluate("User-agent: AI2Bot\nDisallow: /\n", ("CCBot",), "https://ex.com/a")
    assert other.allowed is True
