"""X-Robots-Tag and meta robots: the shared vectors plus HTML and option cases."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from traindex.signals.base import Basis, CheckContext, CheckResult, Resource, Verdict
from traindex.signals.headers import (
    MetaRobotsChecker,
    XRobotsTagChecker,
    blocking_directives,
    parse_directives,
)


def _resource(
    headers: list[tuple[str, str]], body: bytes = b"", content_type: str = "image/jpeg"
) -> Resource:
    return Resource(
        target="https://ex.com/a",
        source="https://ex.com/a",
        url="https://ex.com/a",
        headers=tuple(headers),
        body=body,
        content_type=content_type,
        fetched_at=None,
    )


def _check(
    checker: Any, resource: Resource, agents: tuple[str, ...], noindex: bool = False
) -> CheckResult:
    return asyncio.run(checker.check(resource, CheckContext(agents, None, noindex)))


def test_vector_file_is_complete(
    shared_data: Path, vector_file: Callable[[str], list[dict[str, Any]]]
) -> None:
    assert len(vector_file("x_robots_tag_vectors.json")) == 21


@pytest.mark.shared
@pytest.mark.vectors("x_robots_tag_vectors.json")
def test_x_robots_tag_vector(case: dict[str, Any], shared_data: Path) -> None:
    blocked = blocking_directives(parse_directives(case["headers"]), case["user_agent"])
    assert (not blocked) is case["expected_allowed"]


@pytest.mark.shared
@pytest.mark.vectors("x_robots_tag_vectors.json")
def test_x_robots_tag_vector_through_checker(case: dict[str, Any], shared_data: Path) -> None:
    agents = (case["user_agent"],) if case["user_agent"] else ()
    resource = _resource([("X-Robots-Tag", value) for value in case["headers"]])
    result = _check(XRobotsTagChecker(), resource, agents)
    expected = Verdict.ALLOWED if case["expected_allowed"] else Verdict.RESERVED
    assert result.verdict is expected


def test_reserved_result_quotes_the_header_line() -> None:
    resource = _resource([("X-Robots-Tag", "noindex"), ("x-robots-tag", "GPTBot: NoAI")])
    result = _check(XRobotsTagChecker(), resource, ("CCBot", "GPTBot"))
    assert result.verdict is Verdict.RESERVED
    assert result.user_agent == "GPTBot"
    assert result.source == "https://ex.com/a X-Robots-Tag header: GPTBot: NoAI"
    assert result.raw == "GPTBot: NoAI"


def test_noindex_reserves_only_when_asked() -> None:
    resource = _resource([("X-Robots-Tag", "noindex")])
    assert _check(XRobotsTagChecker(), resource, ("GPTBot",)).verdict is Verdict.ALLOWED
    assert _check(XRobotsTagChecker(), resource, ("GPTBot",), True).verdict is Verdict.RESERVED


def test_fetch_error_is_unknown() -> None:
    resource = Resource("u", "u", "u", (), b"", "", None, error="HTTP 500")
    result = _check(XRobotsTagChecker(), resource, ("GPTBot",))
    assert (result.verdict, result.basis) == (Verdict.UNKNOWN, Basis.ERROR)


@pytest.mark.parametrize(
    ("html", "agents", "verdict"),
    [
        (b'<meta name="robots" content="noai, noimageai">', ("CCBot",), Verdict.RESERVED),
        (b'<META NAME="Robots" CONTENT="NoImageAI">', ("CCBot",), Verdict.RESERVED),
        (b'<meta name="GPTBot" content="noai">', ("GPTBot",), Verdict.RESERVED),
        (b'<meta name="GPTBot" content="noai">', ("CCBot",), Verdict.ALLOWED),
        (b'<meta name="robots" content="noindex">', ("CCBot",), Verdict.ALLOWED),
        (b"<html><head><title>plain</title></head></html>", ("CCBot",), Verdict.ALLOWED),
        (b"<meta name=robots content=noai <<<>>> garbage \xff\xfe", ("CCBot",), Verdict.RESERVED),
    ],
)
def test_meta_robots(html: bytes, agents: tuple[str, ...], verdict: Verdict) -> None:
    result = _check(MetaRobotsChecker(), _resource([], html, "text/html"), agents)
    assert result.verdict is verdict


def test_meta_robots_does_not_apply_to_images() -> None:
    resource = _resource([], b'<meta name="robots" content="noai">', "image/jpeg")
    assert asyncio.run(MetaRobotsChecker().check(resource, CheckContext(("CCBot",)))) is None
