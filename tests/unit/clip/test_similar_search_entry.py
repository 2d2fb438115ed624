"""CLIP queries through the one search entry (``SearchService.search``) answer as
``SimilarSearch`` does, on the real published ViT-B/32 embeddings."""

from __future__ import annotations

from pathlib import Path

import pytest

from traindex.catalog.store import Catalog
from traindex.config import Settings
from traindex.fingerprint.clip import ClipEncoder, ClipModelError
from traindex.ingest.pipeline import ingest
from traindex.search.queries import SimilarQuery, SimilarTextQuery
from traindex.search.service import SearchService
from traindex.search.similar import SimilarSearch

pytestmark = pytest.mark.shared

LAYOUT = "_generated/clip-retrieval-vitb32-embeddings-laion-layout"
PHOTO = "clip-retrieval/tests/test_clip_inference/test_images/416_264.jpg"


@pytest.fixture
def home(settings: Settings, shared_data: Path, clip_model: Path) -> Settings:
    ingest(settings, shared_data / LAYOUT, dataset="clipret", release="r")
    return settings.model_copy(update={"clip_model_dir": clip_model})


def test_similar_queries_answer_as_similar_search(home: Settings, shared_data: Path) -> None:
    assert home.clip_model_dir is not None
    files = [(PHOTO, (shared_data / PHOTO).read_bytes())]
    entry = SearchService(Catalog(home))
    direct = SimilarSearch(Catalog(home), ClipEncoder(home.clip_model_dir))
    by_image = entry.search(SimilarQuery(files), limit=4)
    assert by_image.to_json() == direct.search_images(files, limit=4).to_json()
    assert len(by_image.matches) == 4
    by_text = entry.search(SimilarTextQuery("a kitten"), dataset="clipret", limit=3)
    assert by_text.to_json() == direct.search_text("a kitten", dataset="clipret", limit=3).to_json()


def test_a_similar_query_without_a_model_says_how_to_set_one(settings: Settings) -> None:
    with pytest.raises(ClipModelError, match="TRAINDEX_CLIP_MODEL_DIR"):
        SearchService(Catalog(settings)).search(SimilarTextQuery("a kitten"))
