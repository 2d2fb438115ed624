"""Reports built from real searches carry provenance a third party can check."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from traindex.catalog.store import Catalog
from traindex.config import Settings
from traindex.core.matches import Match
from traindex.evidence.build import build_report, match_from_json, runs_from_json
from traindex.evidence.service import EvidenceService, RenderedReport
from traindex.search.images import ImageSearch

pytestmark = pytest.mark.shared


def test_release_cites_source_files_by_their_real_sha256(
    rendered: RenderedReport, demo_settings: Settings
) -> None:
    releases = {(r.dataset, r.release): r for r in rendered.sealed.report.releases}
    assert set(releases) == {
        (m.name, m.release) for _, m in Catalog(demo_settings).releases()
    }  # every release was searched (no --dataset)
    cc3m = releases[("cc3m-img2dataset", "demo")]
    manifest = Catalog(demo_settings).release("cc3m-img2dataset", "demo").manifest()
    root = Path(manifest.root)
    for source in cc3m.sources:
        assert source.sha256 == hashlib.sha256((root / source.path).read_bytes()).hexdigest()
    assert [s.rows for s in cc3m.sources] == [10, 8]
    assert cc3m.rows == 18
    assert cc3m.failed_rows == 2  # the 404 and the non-image, counted, not searchable


def test_image_matches_show_both_digests(rendered: RenderedReport, portfolio: list[Path]) -> None:
    report = rendered.sealed.report
    by_query = {m.query: m for m in report.matches if m.query_image is not None}
    china = by_query[portfolio[0].name]
    assert china.method == "same file"
    assert china.query_image is not None
    assert china.dataset_image is not None
    assert china.query_image.sha256 == hashlib.sha256(portfolio[0].read_bytes()).hexdigest()
    assert china.dataset_image.sha256 == china.query_image.sha256
    edited = by_query[portfolio[2].name]
    assert (edited.dataset, edited.source_file, edited.row) == ("cc3m-img2dataset", "00000.tar", 1)
    assert edited.method == "same image"
    assert edited.threshold == "31 of 256 bits"
    assert edited.measure.startswith("PDQ distance ")
    assert edited.confidence.startswith(("certain", "likely"))
    assert edited.query_image is not None
    assert edited.dataset_image is not None
    assert edited.query_image.sha256 != edited.dataset_image.sha256  # re-encoded copy


def test_dataset_pdq_is_the_fingerprint_jobs(
    rendered: RenderedReport, demo_settings: Settings
) -> None:
    release = Catalog(demo_settings).release("cc3m-img2dataset", "demo")
    table = pq.read_table(release.dir / "fingerprints" / "00000.parquet").to_pylist()
    recorded = {r["key"]: r["pdq"].hex() for r in table}
    cc3m = [m for m in rendered.sealed.report.matches if m.dataset == "cc3m-img2dataset"]
    assert cc3m
    for m in cc3m:
        assert m.dataset_image is not None
        assert m.key is not None
        assert m.dataset_image.pdq == recorded[m.key]


def test_negative_results_are_listed(rendered: RenderedReport, portfolio: list[Path]) -> None:
    report = rendered.sealed.report
    negatives = [q.value for q in report.negatives]
    assert negatives == [portfolio[3].name]
    unrelated = next(q for q in report.queries if q.value == portfolio[3].name)
    # the demo's LAION-400M rows were never fingerprinted: no absence may be claimed there
    assert unrelated.outcome == "partly searched"
    assert report.not_found == []
    assert report.unsearched == [unrelated]
    laion = next(r for r in report.releases if r.dataset == "laion400m-sample")
    assert laion.coverage is not None
    assert laion.coverage.state == "not searched"
    assert unrelated.matches == 0
    assert unrelated.image is not None
    assert unrelated.image.sha256 == hashlib.sha256(portfolio[3].read_bytes()).hexdigest()
    flickr = next(q for q in report.queries if q.kind == "flickr_user")
    assert (flickr.value, flickr.outcome, flickr.matches) == ("sneakerdog", "found", 1)


def test_search_json_gives_the_same_matches(demo_settings: Settings, portfolio: list[Path]) -> None:
    """The CLI's --json answer read back builds the same match list as the live result."""
    result = ImageSearch(Catalog(demo_settings)).search_paths(portfolio)
    document = json.loads(json.dumps(result.to_json()))
    for original, back in zip(
        result.matches, [match_from_json(m) for m in document["matches"]], strict=True
    ):
        assert back == original
    service = EvidenceService(demo_settings)
    live = build_report([service.search_images(portfolio)], service.catalog, requested_by="x")
    read = build_report(runs_from_json(document), service.catalog, requested_by="x")
    assert read.matches == live.matches
    assert [q.outcome for q in read.queries] == [q.outcome for q in live.queries]


def test_releases_outside_the_catalog_are_cited_not_invented(demo_settings: Settings) -> None:
    match = Match(
        "elsewhere",
        "2024",
        "part-0.parquet",
        7,
        "https://example.org/a.jpg",
        None,
        None,
        None,
        None,
        "exact_url",
        1.0,
    )
    answer = {
        "query": {"kind": "url", "value": match.url, "dataset": "elsewhere"},
        "total": 1,
        "matches": [match.to_json()],
    }
    report = build_report(runs_from_json(answer), Catalog(demo_settings), requested_by="")
    assert [(r.dataset, r.in_catalog, r.sources) for r in report.releases] == [
        ("elsewhere", False, [])
    ]
    assert report.requested_by == "(not stated)"
    assert report.matches[0].method == "exact URL"
