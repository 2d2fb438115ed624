"""CLIP neighbours inside the near-copy check: real loader, real published embeddings."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image
from skimage import data as skdata
from typer.testing import CliRunner

from traindex.catalog.indexes.tiles import index_tiles
from traindex.catalog.store import Catalog
from traindex.cli.main import app
from traindex.config import Settings
from traindex.core.match_evidence import NearCopyEvidence
from traindex.fingerprint.clip import ClipEncoder
from traindex.ingest.pipeline import ingest
from traindex.jobs.fingerprint import fingerprint
from traindex.nearcopy.check import NearCopyChecker
from traindex.nearcopy.evidence import VerdictRules
from traindex.search.similar import SimilarSearch

pytestmark = pytest.mark.shared

LAYOUT = "_generated/clip-retrieval-vitb32-embeddings-laion-layout"
IMAGES = "clip-retrieval/tests/test_clip_inference/test_images"


def test_clip_adds_similar_rows_but_never_more(
    settings: Settings, shared_data: Path, clip_model: Path
) -> None:
    ingest(settings, shared_data / LAYOUT, dataset="clipret", release="r")
    fingerprint(settings, "clipret", images=shared_data / IMAGES, workers=1)
    index_tiles(settings, "clipret", images=shared_data / IMAGES)
    catalog = Catalog(settings)
    neighbours = SimilarSearch(catalog, ClipEncoder(clip_model))
    # every neighbour passes: what CLIP alone can conclude is then visible for every row
    checker = NearCopyChecker(
        catalog, rules=VerdictRules(clip_similar=-1.0), clip=neighbours, max_matches=7
    )
    kitten = shared_data / IMAGES / "123_456.jpg"
    buffer = io.BytesIO()
    Image.fromarray(skdata.astronaut()).save(buffer, "PNG")
    files = [(kitten.name, kitten.read_bytes()), ("astronaut.png", buffer.getvalue())]
    report = checker.check(files)
    assert report.searched == {"clipret/r": ["pdq", "regions", "clip"]}
    copy, novel = report.results
    assert copy.verdict == "copy"
    assert copy.matches[0].key == "123_456"
    assert copy.matches[0].method == "same_image"
    # the copied row is also a CLIP neighbour
    assert copy.matches[0].evidence_as(NearCopyEvidence).cosine is not None
    assert len(copy.matches) == 7
    for match in copy.matches[1:] + novel.matches:
        assert (match.method, match.evidence_as(NearCopyEvidence).verdict) == ("similar", "similar")
        assert {e["method"] for e in match.evidence_as(NearCopyEvidence).evidence} == {"clip"}
    assert novel.verdict == "similar"
    assert len(novel.matches) == 7


def test_cli_nearcopy_with_clip(settings: Settings, shared_data: Path, clip_model: Path) -> None:
    ingest(settings, shared_data / LAYOUT, dataset="clipret", release="r")
    kitten = shared_data / IMAGES / "208_495.jpg"
    args = ["--home", str(settings.home), "nearcopy", str(kitten), "--json", "--clip"]
    result = CliRunner().invoke(app, [*args, "--clip-model", str(clip_model)])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["searched"] == {"clipret/r": ["clip"]}  # never fingerprinted
    assert answer["thresholds"]["clip_similar"] == 0.9
    missing = CliRunner().invoke(app, args)
    assert missing.exit_code == 2
    assert "no CLIP model configured" in missing.output
