"""URL, domain and caption search fanned out over catalog shards held on two Ray nodes
equals the in-process search (library and CLI); a lost holder node is named in the
answer's coverage, and placing the catalog again makes the answer whole."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from traindex.catalog.part import shard_name
from traindex.catalog.store import Catalog
from traindex.config import Settings
from traindex.ingest.pipeline import ingest
from traindex.jobs.ray import RayOptions
from traindex.search.fanout import fanout_views
from traindex.search.placement import deploy_index, placement_path
from traindex.search.queries import Query
from traindex.search.service import SearchService

sys.path.insert(0, str(Path(__file__).resolve().parent))
from raycluster import TwoNodes, answer_after_loss, fresh_driver, run_cli, two_nodes

pytestmark = [pytest.mark.shared, pytest.mark.slow]
__all__ = ["two_nodes"]  # the session fixture, imported so pytest finds it

LAION = "img2dataset/tests/test_files/test_10000.parquet"


def _ranked(answer: dict[str, Any]) -> list[tuple[float, str, int]]:
    """Matches in a tie-proof order (equal BM25 scores may come in either order)."""
    return sorted((-m["score"], m["shard"], m["row"]) for m in answer["matches"])


def _laion_in_two_files(shared_data: Path, home: Path) -> Settings:
    """The 10,000 real LAION rows ingested as ``laion/t`` from two source files."""
    rows = pq.read_table(shared_data / LAION)
    folder = home / "laion"
    folder.mkdir()
    for i, start in enumerate((0, 5000)):
        pq.write_table(rows.slice(start, 5000), folder / f"part-{i:05d}.parquet")
    settings = Settings(home=home)
    ingest(settings, folder, dataset="laion", release="t", skip_bad_rows=True)
    return settings


def test_catalog_look_ups_fan_out_over_two_nodes(
    shared_data: Path, two_nodes: TwoNodes, tmp_path: Path
) -> None:
    fresh_driver()
    settings = _laion_in_two_files(shared_data, tmp_path)
    [(release, manifest)] = Catalog(settings).select("laion")
    first, second = manifest.sources
    row = pq.read_table(release.shard_path(second.id)).slice(1000, 1).to_pylist()[0]
    url = row["url"]  # a row of the second source file
    queries = [Query("url", url), Query("text", "dog"), Query("text", "beach OR house"),
               Query("domain", row["domain"])]  # fmt: skip
    local = SearchService(Catalog(settings))
    expected = [local.search(q, limit=10_000).to_json() for q in queries]
    url_cli = ["search", "--url", url, "--json"]
    local_cli = json.loads(run_cli(url_cli, tmp_path, two_nodes.address))
    assert expected[0]["total"] == 1
    assert expected[1]["total"] > 10

    holder = two_nodes.add_node("catalog")
    head = two_nodes.cluster.head_node.node_id
    options = RayOptions(address=two_nodes.address)
    placement = placement_path(release, "catalog")
    deploy_index(
        "catalog", release.dir, placement, options, label="laion", nodes=[head, holder.node_id]
    )
    recorded = json.loads(placement.read_text())["holders"]
    assert [(h["node_id"], h["shards"]) for h in recorded] == [
        (head, [shard_name(first.id)]),
        (holder.node_id, [shard_name(second.id)]),
    ]

    fanned = SearchService(Catalog(settings), fanout_views(Catalog(settings), options, 60))
    for query, whole in zip(queries, expected, strict=True):
        answer = fanned.search(query, limit=10_000).to_json()
        assert answer["total"] == whole["total"]
        assert _ranked(answer) == _ranked(whole)
        assert "coverage" not in answer
    fanned_cli = run_cli([*url_cli, "--ray-address", two_nodes.address], tmp_path,
                         two_nodes.address)  # fmt: skip
    assert json.loads(fanned_cli) == local_cli

    two_nodes.cluster.remove_node(holder, allow_graceful=False)
    lost = f"catalog/{shard_name(second.id)}"
    gone = answer_after_loss(lambda: fanned.search(Query("url", url)).to_json(), "coverage")
    assert gone["matches"] == []
    assert gone["coverage"]["state"] == "partly searched"
    assert gone["coverage"]["releases"][0]["index_shards_not_searched"] == [lost]
    words = fanned.search(Query("text", "dog"), limit=10_000).to_json()
    kept = [m for m in expected[1]["matches"] if m["shard"] == first.relpath]
    assert _ranked(words) == _ranked({"matches": kept})
    said = run_cli(["search", "--url", url, "--ray-address", two_nodes.address], tmp_path,
                   two_nodes.address)  # fmt: skip
    assert "nothing found among the rows searched" in said
    assert lost in said
    assert "traindex place-index --dataset laion/t --catalog" in said

    # placed again over the nodes still alive, the answer is whole again
    run_cli(["place-index", "-d", "laion", "--catalog"], tmp_path, two_nodes.address)
    alive = {h["node_id"] for h in json.loads(placement.read_text())["holders"]}
    assert holder.node_id not in alive
    again = run_cli([*url_cli, "--ray-address", two_nodes.address], tmp_path,
                    two_nodes.address)  # fmt: skip
    assert json.loads(again) == local_cli
    fresh_driver()  # this connection may sit on the raylet of the node removed above
