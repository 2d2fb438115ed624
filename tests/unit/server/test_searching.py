"""The single search box: what a typed value is taken for, and field validation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from traindex.errors import InputError
from traindex.search.queries import Query
from traindex.server.searching import guess_kind, query_from_fields


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("Jane Doe", "text"),
        ('"Falcon 9"', "text"),
        ("example.com", "domain"),
        ("photos.example.co.uk", "domain"),
        ("co.uk", "text"),  # a public suffix is nobody's domain
        ("https://example.com/a.jpg", "url"),
        ("www.example.com/a.jpg", "url"),
        ("https://www.flickr.com/photos/danielbuechele/6061409035/", "flickr_photo"),
        ("https://www.flickr.com/photos/danielbuechele/", "flickr_user"),
        ("a" * 64, "sha256"),
        ("0f" * 16, "md5"),
    ],
)
def test_guess_kind(value: str, kind: str) -> None:
    assert guess_kind(value) == kind


@given(st.text(max_size=80))
def test_guess_kind_is_total(value: str) -> None:
    assert guess_kind(value) in {
        "text", "domain", "url", "flickr_photo", "flickr_user", "sha256", "md5"
    }  # fmt: skip


def test_query_from_fields() -> None:
    assert query_from_fields({"q": "example.com"}) == Query("domain", "example.com")
    assert query_from_fields({"q": "example.com", "kind": "text"}) == Query("text", "example.com")
    assert query_from_fields({"domain": "example.com"}) == Query("domain", "example.com")
    assert query_from_fields({"dataset": "x"}) is None
    with pytest.raises(InputError, match="one thing to search"):
        query_from_fields({"q": "x", "text": "y"})
    with pytest.raises(InputError, match="unknown search kind"):
        query_from_fields({"q": "x", "kind": "face"})
