"""The JSON of a real face search stays byte for byte what it was (the ``Match``
contract, see the ``match_contract`` fixture): distance, threshold, confidence, the face's
box and source, and no uploader names."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tests.conftest import MatchContract

from traindex.catalog.store import Catalog
from traindex.config import Settings
from traindex.search.faces import FaceSearch

pytestmark = pytest.mark.shared

CONTRACT = Path(__file__).with_name("face_match_json_contract.json")
QUERY = "examples/knn_examples/test/obama1.jpg"


def test_face_search_json_is_unchanged(
    gallery: Settings, photo: Callable[[str], bytes], match_contract: MatchContract
) -> None:
    result = FaceSearch(Catalog(gallery)).search(photo(QUERY), name=QUERY)
    document = result.to_json()
    assert {m["method"] for m in document["matches"]} == {"same_face"}
    match_contract(CONTRACT, [document])
