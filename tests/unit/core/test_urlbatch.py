"""The vectorised URL path agrees with ``canonical_url`` row by row."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from traindex.core.urlbatch import FAST_URL, canonicalise_url_hosts, canonicalise_urls
from traindex.core.urls import UrlError, canonical_url, url_parts


@settings(max_examples=400)
@given(st.from_regex(FAST_URL, fullmatch=True))
def test_every_fast_path_url_is_already_canonical(url: str) -> None:
    # FAST_URL excludes dot segments itself, so everything it admits is canonical as is.
    expected = url_parts(url)
    assert expected.url == url
    batch = canonicalise_urls(pa.array([url]))
    assert batch.url.to_pylist() == [expected.url]
    assert batch.host.to_pylist() == [expected.host]
    assert batch.domain.to_pylist() == [expected.domain]


@given(
    st.lists(
        st.one_of(
            st.none(),
            st.text(max_size=40),
            st.from_regex(FAST_URL, fullmatch=True),
            st.sampled_from(["/./", "/../", "/.", "/..", "/...", "/.x", ":8080/", "%41"]).map(
                lambda tail: "https://Ex.example" + tail
            ),
        ),
        min_size=1,
        max_size=8,
    ),
    st.integers(0, 7),
)
def test_hosts_only_agrees_with_url_parts(values: list[str | None], start: int) -> None:
    # ``canonicalise_url_hosts`` (what the registry uses) = ``canonicalise_urls`` minus the
    # domain, on sliced and large_string input too.
    start = min(start, len(values) - 1)
    full = canonicalise_urls(pa.array(values, pa.string()))
    for raw in (
        pa.array(values, pa.string()).slice(start),
        pa.array(values[start:], pa.large_string()),
    ):
        batch = canonicalise_url_hosts(raw)
        assert batch.url.type == batch.host.type == pa.string()
        assert batch.url.to_pylist() == full.url.to_pylist()[start:]
        assert batch.host.to_pylist() == full.host.to_pylist()[start:]
        assert [i for i, _ in batch.errors] == [i - start for i, _ in full.errors if i >= start]
        for i, value in enumerate(values[start:]):
            if batch.url[i].is_valid:
                parts = url_parts(value or "")
                assert (batch.url[i].as_py(), batch.host[i].as_py()) == (parts.url, parts.host)


@given(
    st.lists(
        st.one_of(st.none(), st.text(max_size=40), st.from_regex(FAST_URL, fullmatch=True)),
        max_size=8,
    )
)
def test_batch_equals_row_by_row(values: list[str | None]) -> None:
    batch = canonicalise_urls(pa.array(values, pa.string()))
    bad = {i for i, _ in batch.errors}
    for i, value in enumerate(values):
        if i in bad:
            with pytest.raises(UrlError):
                canonical_url(value or "")
        else:
            assert value is not None
            assert batch.url[i].as_py() == canonical_url(value)


def test_tricky_urls_leave_the_fast_path() -> None:
    values = [
        "https://a.com/x?",
        "https://a.com/./x",
        "https://a.com/x/..",
        "HTTPS://A.COM/x",
        "https://a.com:443/x",
        "https://a.com/%7E",
        "https://a.com",
        "https://xn--bcher-kva.example/x",
        "https://a.com/x/.?q=1",
        "https://a.com/../x",
        "https://[::1]:8080/x",
    ]
    batch = canonicalise_urls(pa.array(values))
    assert batch.url.to_pylist() == [canonical_url(v) for v in values]
    assert batch.host.to_pylist() == [url_parts(v).host for v in values]


@pytest.mark.shared
def test_real_laion_urls(shared_data: Path) -> None:
    raw = pq.read_table(shared_data / "img2dataset/tests/test_files/test_10000.parquet").column(
        "URL"
    )
    batch = canonicalise_urls(raw.combine_chunks())
    assert [i for i, _ in batch.errors] == [4674]  # the column-shifted row "UNLIKELY"
    for i, value in enumerate(raw.to_pylist()):
        if i != 4674:
            parts = url_parts(value)
            assert (batch.url[i].as_py(), batch.domain[i].as_py()) == (parts.url, parts.domain)
