"""TDMRep: the shared vectors (file, header, HTML precedence) and malformed files."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from traindex.signals.base import Basis, CheckContext, Resource, Verdict
from traindex.signals.fetch import Fetcher
from traindex.signals.tdmrep import (
    TdmRepChecker,
    TdmRepError,
    location_matches,
    normalise,
    parse_tdmrep_json,
)


def _resource(case: dict[str, Any]) -> Resource:
    headers: list[tuple[str, str]] = []
    if "header" in case:
        headers.append(("tdm-reservation", case["header"]))
    if "header_policy" in case:
        headers.append(("tdm-policy", case["header_policy"]))
    body = b""
    content_type = "image/jpeg"
    if "html_meta" in case:
        content_type = "text/html"
        body = f'<html><head><meta name="tdm-reservation" content="{case["html_meta"]}">'.encode()
    elif case["url"].endswith(".html"):
        content_type = "text/html"
        body = b"<html><head><title>x</title></head></html>"
    return Resource(
        target=case["url"],
        source=case["url"],
        url=case["url"],
        headers=tuple(headers),
        body=body,
        content_type=content_type,
        fetched_at=None,
    )


def _run(fetcher: Fetcher, resource: Resource) -> Any:
    async def go() -> Any:
        async with fetcher:
            return await TdmRepChecker().check(resource, CheckContext(("GPTBot",), fetcher))

    return asyncio.run(go())


def _serving(body: bytes, status: int = 200) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/.well-known/tdmrep.json":
            return httpx.Response(status, content=body)
        return httpx.Response(404)

    return handler


def test_vector_file_is_complete(
    shared_data: Path, vector_file: Callable[[str], list[dict[str, Any]]]
) -> None:
    assert len(vector_file("tdmrep_vectors.json")) == 18


@pytest.mark.shared
@pytest.mark.vectors("tdmrep_vectors.json")
def test_tdmrep_vector(
    case: dict[str, Any], shared_data: Path, make_fetcher: Callable[..., Fetcher]
) -> None:
    fetcher = make_fetcher(_serving(json.dumps(case["tdmrep_json"]).encode()))
    result = _run(fetcher, _resource(case))
    expected = {1: Verdict.RESERVED, 0: Verdict.ALLOWED, None: Verdict.UNKNOWN}
    assert result.verdict is expected[case["expected_reservation"]]
    if case["expected_policy"] is not None:
        assert case["expected_policy"] in (result.raw or "")
    elif result.raw is not None:
        assert "policy=" not in result.raw


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"location": "/"}', "must be a JSON array"),
        (b"\xff\xfe\x00binary", "not valid JSON"),
        (b"[" * 100_000, "not valid JSON"),
    ],
)
def test_malformed_file_is_an_explained_error(body: bytes, message: str) -> None:
    with pytest.raises(TdmRepError, match=message):
        parse_tdmrep_json(body)


def test_invalid_file_gives_unknown_error_unless_header_decides(
    make_fetcher: Callable[..., Fetcher],
) -> None:
    case = {"url": "https://p.com/a.jpg"}
    result = _run(make_fetcher(_serving(b"{oops")), _resource(case))
    assert (result.verdict, result.basis) == (Verdict.UNKNOWN, Basis.ERROR)
    assert "not valid JSON" in result.reason
    with_header = _run(make_fetcher(_serving(b"{oops")), _resource({**case, "header": "1"}))
    assert with_header.verdict is Verdict.RESERVED
    assert with_header.source == "header tdm-reservation"


def test_missing_file_and_no_header_is_absent(make_fetcher: Callable[..., Fetcher]) -> None:
    result = _run(make_fetcher(_serving(b"", 404)), _resource({"url": "https://p.com/a.jpg"}))
    assert (result.verdict, result.basis) == (Verdict.UNKNOWN, Basis.ABSENT)


def test_file_rule_source_names_rule_and_location(make_fetcher: Callable[..., Fetcher]) -> None:
    body = json.dumps(
        [{"location": "/x/", "tdm-reservation": 0}, {"location": "/", "tdm-reservation": 1}]
    )
    result = _run(make_fetcher(_serving(body.encode())), _resource({"url": "https://p.com/a.jpg"}))
    assert result.verdict is Verdict.RESERVED
    assert result.source.endswith("/.well-known/tdmrep.json rule #2 location '/'")


def test_location_patterns() -> None:
    assert location_matches("/directory-b/images/*.jpg", "/directory-b/images/a/b.jpg")
    assert not location_matches("/a.jpg$", "/a.jpg?x=1")
    assert location_matches("/a.jpg$", "/a.jpg")
    assert not location_matches("/Images/", "/images/a.jpg")
    assert location_matches("/", "/anything")
    assert location_matches("/a(b)[c]+", "/a(b)[c]+/d")


@pytest.mark.parametrize(
    ("location", "url"),
    [
        ("/path/foo-%24", "https://ex.com/path/foo-$"),
        ("/~user/", "https://ex.com/%7Euser/a.jpg"),
        ("/foo/bar/baz", "https://ex.com/foo/bar/%62%61%7A"),
    ],
)
def test_locations_and_uris_are_percent_normalised(
    location: str, url: str, make_fetcher: Callable[..., Fetcher]
) -> None:
    """Issue 15's three examples: the spec gives reserved; unnormalised matching gave unknown."""
    body = json.dumps([{"location": location, "tdm-reservation": 1}]).encode()
    fetcher = make_fetcher(lambda request: httpx.Response(200, content=body))
    resource = Resource(url, url, url, (), b"", "image/jpeg", None)

    async def run() -> Any:
        try:
            return await TdmRepChecker().check(resource, CheckContext(("GPTBot",), fetcher))
        finally:
            await fetcher.aclose()

    result = asyncio.run(run())
    assert (result.verdict, result.basis) == (Verdict.RESERVED, Basis.STATEMENT)


def test_normalisation_keeps_reserved_escapes_distinct() -> None:
    """RFC 3986 §6.2.2: ``%2F`` is not ``/``; escapes' hex case is not significant."""
    assert normalise("/a%2fb%7e") == "/a%2Fb~"
    assert not location_matches("/a/b", "/a%2Fb")
    assert normalise("/a*$", pattern=True) == "/a*$"
    assert normalise("/a*$") == "/a%2A%24"


_segment = st.text("abcXYZ019-._~!$&'()+,;=:@/ü", min_size=1, max_size=12)


def _encode_some(path: str, data: st.DataObject) -> str:
    """Percent-encode a random subset of unreserved/non-ASCII characters, random hex case."""
    out = []
    for char in path:
        if (char.isalnum() or char in "-._~") and data.draw(st.booleans()):
            hexed = "".join(f"%{b:02X}" for b in char.encode())
            out.append(hexed.lower() if data.draw(st.booleans()) else hexed)
        else:
            out.append(char)
    return "".join(out)


@given(_segment, _segment, st.data())
def test_equivalent_encodings_give_the_same_verdict(
    prefix: str, rest: str, data: st.DataObject
) -> None:
    """A path and any normalised-equivalent spelling of it match the same locations."""
    path = "/" + prefix + rest
    spelled = _encode_some(path, data)
    location = _encode_some("/" + prefix, data).replace("$", "%24")  # a location's literal $
    for pattern in (location, location + "*", location + "$"):
        assert location_matches(pattern, spelled) is location_matches(pattern, path)
    assert location_matches(location, spelled)
