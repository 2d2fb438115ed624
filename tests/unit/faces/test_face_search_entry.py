"""A face query through the one search entry (``SearchService.search``) answers as
``FaceSearch`` does, on the real gallery release; the composition root loads the face
model once and every thread's search entry uses it."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from traindex.bootstrap import Services
from traindex.catalog.store import Catalog
from traindex.config import Settings
from traindex.search.faces import FaceSearch
from traindex.search.queries import FaceQuery
from traindex.search.service import SearchService

pytestmark = pytest.mark.shared

PhotoLoader = Callable[[str], bytes]
QUERY = "examples/knn_examples/test/obama1.jpg"


def test_face_query_answers_as_face_search(gallery: Settings, photo: PhotoLoader) -> None:
    data = photo(QUERY)
    entry = SearchService(Catalog(gallery)).search(FaceQuery(data, QUERY), limit=3)
    direct = FaceSearch(Catalog(gallery)).search(data, name=QUERY, limit=3)
    assert entry.to_json() == direct.to_json()
    assert entry.matches  # obama is in the gallery


def test_threads_share_the_face_model_of_the_composition_root(
    gallery: Settings, photo: PhotoLoader
) -> None:
    services = Services(gallery)
    found: list[FaceSearch] = []
    thread = threading.Thread(target=lambda: found.append(services.search.faces))
    thread.start()
    thread.join()
    assert found[0] is services.search.faces is services.faces
    result = services.search.search(FaceQuery(photo(QUERY), QUERY))
    assert {m.key for m in result.matches} == {
        m.key for m in FaceSearch(Catalog(gallery)).search(photo(QUERY)).matches
    }
