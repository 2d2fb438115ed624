"""Search JSON read back gives the very ``Match`` objects that were written."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from traindex.core.matches import Match
from traindex.errors import InputError
from traindex.evidence.build import match_from_json, runs_from_json

_TEXT = st.text(max_size=30)
_EXTRA = st.dictionaries(
    st.sampled_from(["query", "query_sha256", "distance", "confidence", "punsafe", "domain"]),
    st.one_of(_TEXT, st.integers(0, 256), st.floats(0, 1)),
)
_MATCHES = st.builds(
    Match,
    dataset=_TEXT, release=_TEXT, shard=_TEXT, row=st.integers(0, 2**40), url=_TEXT,
    caption=st.none() | _TEXT, license=st.none() | _TEXT,
    width=st.none() | st.integers(0, 10**5), height=st.none() | st.integers(0, 10**5),
    method=st.sampled_from(["exact_url", "domain", "text", "same_file", "same_image"]),
    score=st.floats(0, 100), key=st.none() | _TEXT,
    matched_terms=st.lists(_TEXT, max_size=3).map(tuple), extra=_EXTRA,
)  # fmt: skip


@given(_MATCHES)
def test_match_json_round_trip(match: Match) -> None:
    assert match_from_json(json.loads(json.dumps(match.to_json()))) == match


@pytest.mark.parametrize(
    "document",
    [
        {"matches": []},
        {"query": {"kind": "url"}, "matches": 3},
        {"query": {"kind": "url"}, "total": "many", "matches": []},
        {"query": {"kind": "text"}, "matches": [{"dataset": "d", "row": "x"}]},
        {"query": {"kind": "image"}, "matches": [], "errors": [{"oops": 1}]},
        [{"query": {"kind": "text"}}, 7],
    ],
)
def test_malformed_search_json_is_a_user_error(document: Any) -> None:
    with pytest.raises(InputError, match=r"not (traindex search JSON|a traindex match)"):
        runs_from_json(document)
