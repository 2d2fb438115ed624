"""Search JSON read back gives the very ``Match`` objects that were written."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from traindex.core.match_evidence import (
    FaceEvidence,
    ImageEvidence,
    IsccEvidence,
    NearCopyEvidence,
    SimilarEvidence,
    UrlFormEvidence,
)
from traindex.core.matches import Match
from traindex.errors import InputError
from traindex.evidence.build import match_from_json, runs_from_json

_TEXT = st.text(max_size=30)
_INT = st.integers(0, 256)
_FLOAT = st.floats(0, 1)
_JSON_OBJECT = st.dictionaries(_TEXT, _TEXT | _INT, max_size=3)
_EXTRA = st.dictionaries(
    st.sampled_from(["punsafe", "pwatermark", "domain", "flickr_owner", "aesthetic"]),
    st.one_of(_TEXT, _INT, _FLOAT),
)


@st.composite
def _image_evidence(draw: st.DrawFn) -> ImageEvidence:
    """Consistent as a search makes it: the keypoint fields all or none, a variant exactly
    when PDQ or keypoints matched."""
    distance = draw(st.none() | _INT)
    points = draw(st.none() | st.tuples(_INT, _INT, _FLOAT, _FLOAT))
    inliers, least, scale, rotation = points or (None, None, None, None)
    return ImageEvidence(
        draw(_TEXT), draw(_TEXT), draw(st.none() | _TEXT), draw(_INT), draw(st.none() | _TEXT),
        draw(_TEXT), distance=distance,
        variant=draw(_TEXT) if distance is not None or points else None,
        inliers=inliers, min_inliers=least, keypoint_scale=scale, keypoint_rotation=rotation,
        verified_by_download=draw(st.none() | _JSON_OBJECT),
    )  # fmt: skip


_EVIDENCE = st.one_of(
    st.none(),
    st.builds(UrlFormEvidence),
    _image_evidence(),
    st.builds(IsccEvidence, query=_TEXT, query_iscc=_TEXT, iscc=_TEXT, distance=_INT,
              threshold=_INT, explanation=_TEXT),
    st.builds(FaceEvidence, distance=_FLOAT, threshold=_FLOAT, confidence=_TEXT,
              explanation=_TEXT, face_box=st.dictionaries(_TEXT, _INT), face_size=_INT,
              face_source=_TEXT),
    st.builds(SimilarEvidence, query=_TEXT, cosine=_FLOAT, model=_TEXT, explanation=_TEXT,
              candidate_status=st.none() | _TEXT),
    st.builds(NearCopyEvidence, watermark_flag=st.booleans(), tiles_matched=_INT,
              distance=st.none() | _INT, cosine=st.none() | _FLOAT,
              evidence=st.lists(_JSON_OBJECT, max_size=2), keypoint_inliers=st.none() | _INT,
              region=st.none() | _JSON_OBJECT, output=st.none() | _TEXT),
)  # fmt: skip
_MATCHES = st.builds(
    Match,
    dataset=_TEXT, release=_TEXT, shard=_TEXT, row=st.integers(0, 2**40), url=_TEXT,
    caption=st.none() | _TEXT, license=st.none() | _TEXT,
    width=st.none() | st.integers(0, 10**5), height=st.none() | st.integers(0, 10**5),
    method=st.sampled_from(["exact_url", "domain", "text", "same_file", "same_image"]),
    score=st.floats(0, 100), key=st.none() | _TEXT,
    matched_terms=st.lists(_TEXT, max_size=3).map(tuple), extra=_EXTRA, evidence=_EVIDENCE,
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
