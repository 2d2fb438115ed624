"""The JSON of real CLIP answers stays byte for byte what it was (the ``Match`` contract,
see the ``match_contract`` fixture): ``similar`` search by image and text, and a near-copy
check whose rows are CLIP neighbours (``cosine`` beside the PDQ evidence)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import MatchContract

from traindex.catalog.indexes.tiles import index_tiles
from traindex.catalog.store import Catalog
from traindex.config import Settings
from traindex.fingerprint.clip import ClipEncoder
from traindex.ingest.pipeline import ingest
from traindex.jobs.fingerprint import fingerprint
from traindex.nearcopy.check import NearCopyChecker
from traindex.nearcopy.evidence import VerdictRules
from traindex.search.similar import SimilarSearch

pytestmark = pytest.mark.shared

CONTRACT = Path(__file__).with_name("clip_match_json_contract.json")
LAYOUT = "_generated/clip-retrieval-vitb32-embeddings-laion-layout"
IMAGES = "clip-retrieval/tests/test_clip_inference/test_images"


def test_clip_json_is_unchanged(
    settings: Settings, shared_data: Path, clip_model: Path, match_contract: MatchContract
) -> None:
    ingest(settings, shared_data / LAYOUT, dataset="clipret", release="r")
    fingerprint(settings, "clipret", images=shared_data / IMAGES, workers=1)
    index_tiles(settings, "clipret", images=shared_data / IMAGES)
    catalog = Catalog(settings)
    similar = SimilarSearch(catalog, ClipEncoder(clip_model))
    kitten = shared_data / IMAGES / "123_456.jpg"
    files = [(kitten.name, kitten.read_bytes())]
    checker = NearCopyChecker(catalog, rules=VerdictRules(clip_similar=-1.0), clip=similar)
    documents = [
        similar.search_images(files, limit=3).to_json(),
        similar.search_text("hello kitten", limit=3).to_json(),
        checker.check(files).to_json(),
    ]
    assert "cosine" in documents[2]["results"][0]["matches"][0]
    match_contract(CONTRACT, documents)
