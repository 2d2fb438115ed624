"""URL, domain and caption search over catalog shards held by several holders
(``search.fanout.FanoutKeys`` / ``FanoutCaptions``, each holder a ``CatalogPart``) answers
as the in-process search does; a holder that does not answer is named in the coverage and
never turns into "not found".

The holders are faked here (each part asked in this process); the real two-node cluster
is in tests/integration/test_ray_catalog_fanout.py.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from traindex.catalog.part import CatalogPart, shard_name
from traindex.catalog.store import Catalog, Release
from traindex.catalog.text import TextIndex
from traindex.config import Settings
from traindex.errors import TraindexError
from traindex.evidence.build import build_report, runs_from_result
from traindex.ingest.pipeline import ingest
from traindex.search.fanout import FanoutCaptions, FanoutKeys
from traindex.search.placement import Holder
from traindex.search.queries import Query
from traindex.search.service import SearchService
from traindex.search.views import IndexOpeners, ViewCache
from traindex.server.app import create_app

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fakeray import InProcessHolders

pytestmark = pytest.mark.shared

LAION = "img2dataset/tests/test_files/test_10000.parquet"
TEXTS = ("dog", "beach OR house", '"wedding dress"', "red -car")


class _Keys(InProcessHolders, FanoutKeys):
    pass


class _Captions(InProcessHolders, FanoutCaptions):
    pass


def _parts(release: Release, holders: list[Holder]) -> dict[str, Any]:
    """Each holder a ``CatalogPart`` of the release, answering over a real channel in this
    process (``fakeray.InProcessHolders``)."""
    return {h.actor: CatalogPart(release.dir).restrict(h.shards) for h in holders}


@pytest.fixture(scope="module")
def laion(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Release]:
    """The 10,000 real LAION-400M rows in three source files."""
    root = tmp_path_factory.mktemp("laion")
    rows = pq.read_table(shared_data / LAION)
    folder = root / "parts"
    folder.mkdir()
    for i, (start, stop) in enumerate(((0, 4000), (4000, 7000), (7000, 10_000))):
        pq.write_table(rows.slice(start, stop - start), folder / f"part-{i:05d}.parquet")
    settings = Settings(home=root / "home")
    ingest(settings, folder, dataset="laion", release="t", skip_bad_rows=True)
    [(release, _)] = Catalog(settings).select("laion")
    return settings, release


def _holders(release: Release) -> list[Holder]:
    """Two holders, the release's catalog shards round-robin (as ``deploy_index`` does)."""
    names = CatalogPart(release.dir).shard_names
    return [Holder(f"h{i}", f"node{i}", names[i::2]) for i in range(2)]


def _views(catalog: Catalog, release: Release, gone: set[str]) -> ViewCache:
    holders = _holders(release)
    openers = IndexOpeners(
        keys=lambda r: _Keys(_parts(r, holders), holders, "catalog", gone=gone),
        captions=lambda r: _Captions(_parts(r, holders), holders, "catalog", gone=gone),
    )
    return ViewCache(catalog, openers)


def _fanned(settings: Settings, release: Release, gone: set[str] = frozenset()) -> SearchService:  # type: ignore[assignment]
    return SearchService(Catalog(settings), _views(Catalog(settings), release, gone))


def _queries(settings: Settings, release: Release) -> list[Query]:
    """URLs (one per source file, both schemes), their domains, and caption words."""
    shards = sorted(release.samples_dir.glob("*.parquet"))
    table = pa.concat_tables(pq.read_table(p) for p in shards)
    urls = [table.column("url")[i].as_py() for i in (5, 4500, 9000)]
    other = urls[0].replace("https://", "http://", 1) if urls[0].startswith("https") else urls[0]
    domains = [table.column("domain")[i].as_py() for i in (5, 4500, 9000)]
    common = pc.value_counts(table.column("domain")).to_pylist()
    top = max(common, key=lambda c: c["counts"] if c["values"] else 0)["values"]
    return [
        *(Query("url", u) for u in [*urls, other]),
        *(Query("domain", d) for d in [*domains, top]),
        *(Query("text", t) for t in TEXTS),
    ]


def _ranked(answer: dict[str, Any]) -> list[tuple[float, str, int]]:
    """An answer's matches in a tie-proof order (equal BM25 scores may come either way)."""
    return sorted((-m["score"], m["shard"], m["row"]) for m in answer["matches"])


def test_parts_answer_as_the_whole_release(laion: tuple[Settings, Release]) -> None:
    settings, release = laion
    local = SearchService(Catalog(settings))
    fanned = _fanned(settings, release)
    for query in _queries(settings, release):
        for limit, offset in ((20, 0), (7, 3), (5, 30), (10_000, 0)):
            mine = fanned.search(query, limit=limit, offset=offset).to_json()
            theirs = local.search(query, limit=limit, offset=offset).to_json()
            assert mine["total"] == theirs["total"], query
            if query.kind == "text":  # the same scores, ties in another order
                assert [m["score"] for m in mine["matches"]] == [
                    m["score"] for m in theirs["matches"]
                ]
                if limit == 10_000:
                    assert _ranked(mine) == _ranked(theirs)
            else:
                assert mine == theirs, query
    assert local.search(Query("text", "dog"), limit=5).total > 20  # the texts find rows
    holders = _holders(release)
    captions = _Captions(_parts(release, holders), holders, "catalog")
    whole = TextIndex(release.text_dir)
    for limit, offset in ((5, 0), (5, 12), (3, 40)):  # pages of the caption index itself
        mine, theirs = captions.search("dog", limit, offset), whole.search("dog", limit, offset)
        assert mine.total == theirs.total
        assert [h.score for h in mine.hits] == [h.score for h in theirs.hits]


def test_a_lost_holder_is_named_and_never_reads_as_not_found(
    laion: tuple[Settings, Release],
) -> None:
    settings, release = laion
    manifest = release.manifest()
    lost_ids = [s.id for s in manifest.sources][1::2]  # what holder h1 held
    lost_relpaths = {s.relpath for s in manifest.sources if s.id in lost_ids}
    lost_rows = sum(s.rows for s in manifest.sources if s.id in lost_ids)
    local = SearchService(Catalog(settings))
    fanned = _fanned(settings, release, gone={"h1"})
    labels = [f"catalog/{shard_name(i)}" for i in lost_ids]

    words = fanned.search(Query("text", "dog"), limit=10_000)
    whole = local.search(Query("text", "dog"), limit=10_000).to_json()
    kept = [m for m in whole["matches"] if m["shard"] not in lost_relpaths]
    assert 0 < len(kept) < len(whole["matches"])
    assert _ranked(words.to_json()) == _ranked({"matches": kept})
    assert words.total == len(kept)
    assert words.coverage is not None
    assert words.coverage.state == "partly searched"
    [covered] = words.coverage.releases
    assert covered.index_shards_lost == tuple(labels)
    assert covered.rows_searched(words.coverage.signals) == manifest.rows - lost_rows
    assert words.query["searched"][0]["rows_searched"] == manifest.rows - lost_rows

    in_lost = next(m for m in whole["matches"] if m["shard"] in lost_relpaths)
    missing = fanned.search(Query("url", in_lost["url"]))
    assert missing.matches == []
    assert missing.coverage is not None
    assert missing.coverage.state == "partly searched"
    assert "not searched" in missing.coverage.to_json()["releases"][0]["summary"]
    kept_url = kept[0]["url"]
    assert [m.url for m in fanned.search(Query("url", kept_url)).matches] == [kept_url]
    # every hit or none: a download selection or a watch never acts on a part
    view = fanned.views.select("laion")[0]
    with pytest.raises(TraindexError, match="place-index"):
        fanned.positions(view, Query("text", "dog"))
    assert local.search(Query("text", "dog")).coverage is None  # nothing lost: as before


def test_the_web_page_and_a_report_say_partly_searched(
    laion: tuple[Settings, Release], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, release = laion
    lost = release.manifest().sources[1]  # held by h1
    url = pq.read_table(release.shard_path(lost.id)).column("url")[10].as_py()
    label = f"catalog/{shard_name(lost.id)}"
    monkeypatch.setattr(
        "traindex.bootstrap.search_views", lambda catalog, _: _views(catalog, release, {"h1"})
    )
    with TestClient(create_app(settings)) as client:
        page = client.get("/search", params={"q": url, "kind": "url"}).text
        words = client.get("/search", params={"q": "dog", "kind": "text"}).text
    assert "Nothing found among the rows searched" in page
    assert label in page
    assert "traindex place-index --dataset laion/t --catalog" in page
    assert 'id="coverage"' in words
    assert label in words

    result = _fanned(settings, release, gone={"h1"}).search(Query("url", url))
    report = build_report([runs_from_result(result)], Catalog(settings), requested_by="me")
    assert [q.outcome for q in report.queries] == ["partly searched"]
    whole = SearchService(Catalog(settings)).search(Query("url", url))
    assert [m.url for m in whole.matches] == [url]  # the row is there: never "not found"


@pytest.mark.parametrize("split", [[0], [1, 2], [0, 2], [2]])
def test_caption_scores_do_not_change_with_a_shard_filter(
    laion: tuple[Settings, Release], split: list[int]
) -> None:
    _, release = laion
    ids = [s.id for s in release.manifest().sources]
    wanted = {ids[i] for i in split}
    index = TextIndex(release.text_dir)
    whole = index.search("beach OR house", 10_000)
    part = index.search("beach OR house", 10_000, shards=wanted)
    expected = {(h.shard_id, h.row): h.score for h in whole.hits if h.shard_id in wanted}
    assert {(h.shard_id, h.row): h.score for h in part.hits} == expected
    assert part.total == len(expected) > 0
