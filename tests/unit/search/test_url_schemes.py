"""Exact-URL and URL-prefix search find a row whichever of http/https it holds, and say
which form matched (brute force over the rows is the oracle)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from traindex.catalog.store import Catalog
from traindex.config import Settings
from traindex.core.match_evidence import UrlFormEvidence
from traindex.core.urls import canonical_url
from traindex.ingest.pipeline import ingest
from traindex.search.queries import Query, swap_scheme
from traindex.search.service import SearchService

URLS = [
    "http://example.com/photos/a.jpg",
    "https://example.com/photos/a.jpg",
    "https://example.com/photos/b.jpg",
    "http://example.com/other/c.jpg",
    "http://example.com:8080/photos/a.jpg",
    "https://cdn.example.org/photos/a.jpg",
]


@pytest.fixture
def service(settings: Settings, tmp_path: Path) -> SearchService:
    path = tmp_path / "rows.parquet"
    pq.write_table(pa.table({"url": URLS, "caption": [f"row {i}" for i in range(len(URLS))]}), path)
    ingest(settings, path, dataset="d", release="main", fmt="table")
    return SearchService(Catalog(settings))


def _oracle(query: str, prefix: bool) -> dict[int, str]:
    """Row -> form, by brute force over the rows' canonical URLs."""
    given_form, other = canonical_url(query), swap_scheme(canonical_url(query))
    found = {}
    for row, url in enumerate(canonical_url(u) for u in URLS):
        hits = url.startswith if prefix else url.__eq__
        if hits(given_form):
            found[row] = "as_given"
        elif hits(other):
            found[row] = "other_scheme"
    return found


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("url", "https://example.com/photos/a.jpg"),
        ("url", "http://example.com/photos/b.jpg"),
        ("url", "HTTPS://EXAMPLE.COM/other/c.jpg"),
        ("url", "https://example.com:8080/photos/a.jpg"),
        ("url", "http://example.com:443/photos/b.jpg"),
        ("url_prefix", "https://example.com/photos/"),
        ("url_prefix", "http://example.com/other/"),
        ("url_prefix", "http://cdn.example.org/"),
    ],
)
def test_both_schemes_match_the_oracle(service: SearchService, kind: str, value: str) -> None:
    result = service.search(Query(kind, value), limit=100)  # type: ignore[arg-type]
    found = {m.row: m.evidence_as(UrlFormEvidence).matched_url_form for m in result.matches}
    assert found == _oracle(value, prefix=kind == "url_prefix")
    assert found, value
    assert result.total == len(found)
    assert result.to_json()["query"]["also_searched"] == swap_scheme(canonical_url(value))


_HOSTS = st.from_regex(r"[a-z][a-z0-9]{0,10}\.(com|org|co\.uk)", fullmatch=True)
_PATHS = st.from_regex(r"(/[a-z0-9._-]{0,8}){0,3}", fullmatch=True)


_PORTS = st.sampled_from(["", ":80", ":443", ":8080"])


@given(scheme=st.sampled_from(["http", "https"]), host=_HOSTS, port=_PORTS, path=_PATHS)
def test_swap_scheme_is_an_involution_on_canonical_urls(
    scheme: str, host: str, port: str, path: str
) -> None:
    url = canonical_url(f"{scheme}://{host}{port}{path}")
    other = swap_scheme(url)
    assert other.split("://")[0] != url.split("://")[0]
    assert canonical_url(other) == other
    if port in ("", ":8080"):  # a default port changes meaning with the scheme
        assert swap_scheme(other) == url
