"""Candidate fingerprints are cached with the bytes: a second search neither fetches nor
hashes, and a changed pipeline is a miss, never a stale fingerprint."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from traindex.config import Settings
from traindex.download.cache import CandidateCache, CandidatePrint, pipeline_key
from traindex.fingerprint.keypoints import KeypointOptions, dataset_points
from traindex.search import verify
from traindex.search.candidates import MetadataCandidates
from traindex.search.queries import Query
from traindex.search.service import SearchService
from traindex.search.verify import CandidateVerifier

from .conftest import HOSTS, MakeRelease

pytestmark = pytest.mark.shared


def _edited(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        small = image.convert("RGB").resize((image.width * 3 // 4, image.height * 3 // 4))
    out = io.BytesIO()
    small.save(out, "JPEG", quality=70)
    return out.getvalue()


def test_a_kept_print_reads_back_exactly(laion_like: MakeRelease, tmp_path: Path) -> None:
    photo = next(iter(laion_like(special=False).site.photos.values()))
    points = dataset_points(photo, KeypointOptions(), name="photo.jpg")
    printed = CandidatePrint("ab" * 32, (b"\x01" * 32, b"\x02" * 32), points)
    cache = CandidateCache(tmp_path / "cache")
    key = pipeline_key(10_000, KeypointOptions())
    cache.keep_fingerprints(printed, key)
    back = cache.fingerprints(printed.sha256, key)
    assert back is not None
    assert back.keypoints is not None
    assert back.pdq == printed.pdq
    assert np.array_equal(back.keypoints.points, points.points), "full precision, not float16"
    assert back.keypoints.points.dtype == points.points.dtype
    assert np.array_equal(back.keypoints.descriptors, points.descriptors)
    assert cache.fingerprints(printed.sha256, pipeline_key(10_000, None)) is None
    assert cache.fingerprints(printed.sha256, pipeline_key(20_000, KeypointOptions())) is None
    flat = CandidatePrint("cd" * 32, (), None)
    cache.keep_fingerprints(flat, key)
    assert cache.fingerprints(flat.sha256, key) == flat


def test_a_second_search_hashes_nothing(
    laion_like: MakeRelease, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = laion_like(special=False)
    names = sorted(release.site.photos)  # even positions are served by photos.example
    files = [("edited.jpg", _edited(release.site.photos[names[0]]))]

    def search() -> list[tuple[str, str, str]]:
        verifier = CandidateVerifier(Settings(home=release.home), max_candidates=6)
        views = verifier.search.views
        source = MetadataCandidates(Query("domain", HOSTS[0]), SearchService(views.catalog, views))
        result = verifier.verify(files, source)
        return sorted((m.query, m.method, m.url) for m in result.matches)

    first = search()
    assert [(q, method) for q, method, _ in first] == [("edited.jpg", "same_image")]
    assert first[0][2].endswith(names[0])
    kept = list((release.home / "cache" / "candidates" / "fingerprints").glob("*.json"))
    assert len(kept) == 6, "one kept print per downloaded candidate"

    def no_hashing(*args: object, **kwargs: object) -> None:
        raise AssertionError("a cached candidate was hashed again")

    monkeypatch.setattr(verify, "fingerprint_record", no_hashing)
    monkeypatch.setattr(verify, "dataset_points", no_hashing)
    assert search() == first
    for path in kept:  # a damaged entry is a miss: hashed again, same answer
        path.write_text("{", encoding="utf-8")
    monkeypatch.undo()
    assert search() == first
