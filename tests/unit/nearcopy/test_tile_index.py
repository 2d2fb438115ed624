"""The region index and the evidence the checker gathers, against brute force."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from traindex.catalog.indexes.tiles import index_tiles
from traindex.catalog.locations import loc_of
from traindex.catalog.store import Catalog
from traindex.config import Settings
from traindex.fingerprint.pdq import PdqFingerprinter, hamming
from traindex.ingest.pipeline import ingest
from traindex.jobs.fingerprint import fingerprint
from traindex.nearcopy.check import NearCopyChecker
from traindex.nearcopy.evidence import Evidence, searches_regions
from traindex.nearcopy.tiles import dataset_regions, decode_for_tiles

from .conftest import TrainingSet, edits

pytestmark = pytest.mark.shared

OUT = "_generated/img2dataset-1.47.0-output-cc3m-test-images/files"


def _stored(ts: TrainingSet) -> list[tuple[int, str, bytes]]:
    """Every hash both indexes should hold, recomputed independently: (loc, part, digest)."""
    release = ts.settings.datasets_dir / "train" / "r1"
    table = pq.read_table(release / "fingerprints" / "00000.parquet").to_pylist()
    hasher = PdqFingerprinter()
    stored = []
    for rec in table:
        loc = loc_of(0, rec["row"])
        stored += [(loc, "image", rec[c]) for c in ("pdq", "pdq_trim") if rec[c] is not None]
        pixels = decode_for_tiles((ts.images / f"{rec['key']}.jpg").read_bytes(), "x", 10**8)
        stored += [
            (loc, fp.variant, fp.digest)
            for fp in dataset_regions(pixels, hasher)
            if not fp.low_quality
        ]
    return stored


def test_gathered_evidence_equals_brute_force(training_set: TrainingSet) -> None:
    checker = NearCopyChecker.from_settings(training_set.settings)
    rng = np.random.default_rng(11)
    photos = training_set.training
    files = [
        (f"{edit}-{i}", edits.jpeg(edits.EDITS[edit](photos[i][1], photos[-1][1], rng)))
        for i, edit in enumerate(["regen_photo", "cut_borders", "pasted_in_cell", "rerender"])
    ]
    hashes = [checker._describe(name, data, points=False).hashes for name, data in files]
    [view] = checker.views.select("train")
    lost: set[str] = set()
    found = checker._pdq_evidence(view, hashes, lost)
    assert lost == set()  # an in-process index reaches every shard
    radius = checker.rules.search_radius
    stored = _stored(training_set)
    expected: dict[tuple[int, int], dict[tuple[str, str, str], float]] = {}
    for qi, fps in enumerate(hashes):
        for fp in fps:
            for loc, part, digest in stored:
                if part != "image" and not searches_regions(fp.variant):
                    continue  # the region index is searched with tiles and whole frames only
                distance = hamming(fp.digest, digest)
                evidence = Evidence.of(fp.variant, part, distance)
                if distance <= radius and evidence is not None:
                    slot = expected.setdefault((qi, loc), {})
                    key = (evidence.kind, fp.variant, part)
                    slot[key] = min(slot.get(key, 999), distance)
    got = {k: {key: e.distance for key, e in slot.items()} for k, slot in found.items()}
    assert got == expected
    assert {qi for qi, _ in got} == {0, 1, 2, 3}


def test_release_carrying_its_images_resumes(tmp_path: Path, shared_data: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    ingest(settings, shared_data / OUT, dataset="cc3m", release="main")
    fingerprint(settings, "cc3m", workers=1)
    seen: list[int] = []
    [report] = index_tiles(settings, "cc3m", on_shard=seen.append)
    assert (report.shards, report.shards_skipped, report.images, report.errors) == (2, 0, 18, 0)
    assert seen == [10, 8]
    assert report.hashes_indexed > 18 * 9
    done = json.loads((settings.datasets_dir / "cc3m/main/nearcopy/indexed.json").read_text())
    assert sorted(done["shards"]) == [0, 1]
    [again] = index_tiles(settings, "cc3m")
    assert (again.shards_skipped, again.images, again.hashes_indexed) == (2, 0, 0)
    photo = next((shared_data / OUT / "00000").glob("*.jpg"))
    result = NearCopyChecker(Catalog(settings)).check([(photo.name, photo.read_bytes())])
    assert result.results[0].verdict == "copy"
    assert result.results[0].matches[0].key == photo.stem
