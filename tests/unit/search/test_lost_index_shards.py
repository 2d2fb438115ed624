"""Index shards a fanned-out search could not reach are part of the answer's coverage, so
the JSON, the CLI, the web page and a report all say "partly searched" and name them.

The holder is faked here (a unit test): an index that answers from the real on-disk index
but reports one shard as not searched, as ``search.fanout.FanoutPdq`` does when a node is
lost (that path is tested against a real two-node cluster in tests/integration).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import sklearn.datasets
from rich.console import Console

from traindex.catalog.indexes.pdq import open_pdq
from traindex.catalog.store import Catalog, Release
from traindex.cli import coverage as cli_coverage
from traindex.config import Settings
from traindex.core.coverage import Coverage, ReleaseCoverage, cover_command
from traindex.evidence.build import build_report, runs_from_result
from traindex.index.base import RangeHits
from traindex.ingest.pipeline import ingest
from traindex.jobs.fingerprint import fingerprint
from traindex.search.images import ImageSearch
from traindex.search.views import IndexOpeners, ViewCache
from traindex.server.pages import coverage_rows

pytestmark = pytest.mark.shared

LOST = "shard-000007"
CC3M = "_generated/img2dataset-1.47.0-output-cc3m-test-images/webdataset"
PHOTO = (
    "conceptual-captions/competition/skeleton/conceptual-captions/test_images/0006400c1c224e19.jpg"
)
# a real photo that is not in cc3m
STRANGER = Path(sklearn.datasets.__file__).parent / "images" / "china.jpg"


@pytest.fixture(scope="module")
def cc3m(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Settings:
    """A release whose every row is fingerprinted: by itself, an answer is "searched"."""
    settings = Settings(home=tmp_path_factory.mktemp("lost") / "home")
    ingest(settings, shared_data / CC3M, dataset="cc3m", release="main")
    fingerprint(settings, "cc3m", workers=1)
    return settings


def _files(shared_data: Path) -> list[Path]:
    return [shared_data / PHOTO, STRANGER]


class _LosingOne:
    """The real index's answer, with one (extra) shard reported as not reached."""

    def __init__(self, release: Release) -> None:
        index = open_pdq(release)
        assert index is not None
        self.index = index

    def search(self, queries: Any, radius: int = 31, *, workers: int = 1) -> RangeHits:
        hits = self.index.search(queries, radius, workers=workers)
        return RangeHits(hits.query, hits.ids, hits.distances, hits.num_queries, (LOST,))


def test_coverage_record_names_lost_shards() -> None:
    full = ReleaseCoverage("laion", "r1", 10, {"pdq": 10, "sha256": 10}, shards=1)
    coverage = Coverage(("sha256", "pdq"), (full,))
    assert coverage.state == "searched"
    lost = coverage.with_index_shards_lost(["laion/r1:shard-000002", "other/r:shard-000001"])
    [release] = lost.releases
    assert release.index_shards_lost == ("shard-000002",)
    assert lost.state == "partly searched"
    assert lost.index_shards_lost == ["laion/r1:shard-000002"]
    assert "shard-000002 not searched" in release.describe(lost.signals)
    assert "laion/r1:shard-000002 not reached" in lost.summary()
    assert cover_command(release, lost.signals) == "traindex place-index --dataset laion/r1"
    assert Coverage.from_json(lost.to_json()) == lost
    assert lost.to_json()["releases"][0]["index_shards_not_searched"] == ["shard-000002"]
    assert coverage.with_index_shards_lost([]) == coverage


def _search(settings: Settings, losing: bool = True) -> ImageSearch:
    catalog = Catalog(settings)
    views = ViewCache(catalog, IndexOpeners(pdq=_LosingOne)) if losing else ViewCache(catalog)
    return ImageSearch(catalog, views, keypoints=False)


def test_every_surface_says_partly_searched_with_the_shard(
    cc3m: Settings, shared_data: Path
) -> None:
    queries = [(p.name, p.read_bytes()) for p in _files(shared_data)]
    files = [name for name, _ in queries]
    complete = _search(cc3m, losing=False).search(queries).to_json()
    assert complete["not_found"] == [files[1]]  # every shard reached: absence may be said
    assert complete["coverage"]["state"] == "searched"

    result = _search(cc3m).search(queries)
    answer = result.to_json()
    assert answer["matches"] == complete["matches"]
    assert {m["query"] for m in answer["matches"]} == {files[0]}
    assert answer["not_found"] == []  # the stranger may sit in the shard not reached
    assert answer["partly_searched"] == [files[1]]
    assert answer["index_shards_not_searched"] == [f"cc3m/main:{LOST}"]
    assert answer["coverage"]["state"] == "partly searched"
    assert answer["coverage"]["releases"][0]["index_shards_not_searched"] == [LOST]

    [row] = coverage_rows(result.coverage)  # the web page's coverage lines
    assert row["state"] == "partly searched"
    assert LOST in row["summary"]
    assert row["command"] == "traindex place-index --dataset cc3m/main"

    printed = io.StringIO()
    console = Console(file=printed, width=200)
    original = cli_coverage.console
    cli_coverage.console = console
    try:
        cli_coverage.print_coverage(result.coverage)
    finally:
        cli_coverage.console = original
    assert f"{LOST} not searched" in printed.getvalue()

    report = build_report([runs_from_result(result)], Catalog(cc3m), requested_by="me")
    [covered] = [r.coverage for r in report.releases if r.coverage is not None]
    assert covered.state == "partly searched"
    assert covered.index_shards_not_searched == [LOST]
    outcomes = {q.value: q.outcome for q in report.queries}
    assert outcomes == {files[0]: "found", files[1]: "partly searched"}


def test_a_shard_lost_in_an_earlier_batch_stays_in_the_portfolio_answer(
    cc3m: Settings, shared_data: Path
) -> None:
    search = _search(cc3m)
    calls = iter([True, False])

    class _LostOnce(_LosingOne):
        def search(self, queries: Any, radius: int = 31, *, workers: int = 1) -> RangeHits:
            hits = self.index.search(queries, radius, workers=workers)
            lost = (LOST,) if next(calls, False) else ()
            return RangeHits(hits.query, hits.ids, hits.distances, hits.num_queries, lost)

    search.views = ViewCache(search.views.catalog, IndexOpeners(pdq=_LostOnce))
    result = search.search_paths(_files(shared_data), batch=1)  # only batch 1 loses a shard
    assert result.index_shards_lost == [f"cc3m/main:{LOST}"]
    assert result.coverage is not None
    assert result.coverage.state == "partly searched"
    assert list(result.outcomes().values()) == ["found", "partly searched"]
