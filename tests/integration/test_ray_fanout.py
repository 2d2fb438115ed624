"""Image search fanned out over PDQ index shards held on two Ray nodes equals the
in-process search; a lost holder node is named in the answer's coverage."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from traindex.catalog.store import Catalog
from traindex.config import Settings
from traindex.ingest.pipeline import ingest
from traindex.jobs.fingerprint import fingerprint
from traindex.jobs.ray import RayOptions
from traindex.search.fanout import fanout_views
from traindex.search.images import ImageSearch
from traindex.search.placement import deploy_index, placement_path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from raycluster import TwoNodes, answer_after_loss, edited_copy, fresh_driver, run_cli, two_nodes

pytestmark = [pytest.mark.shared, pytest.mark.slow]
__all__ = ["two_nodes"]  # the session fixture, imported so pytest finds it

CC3M = "_generated/img2dataset-1.47.0-output-cc3m-test-images/webdataset"
PHOTOS = "conceptual-captions/competition/skeleton/conceptual-captions/test_images"


def test_fanned_out_search_equals_in_process_and_names_a_lost_node(
    shared_data: Path, two_nodes: TwoNodes, tmp_path: Path
) -> None:
    fresh_driver()
    settings = Settings(home=tmp_path)
    ingest(settings, shared_data / CC3M, dataset="cc3m", release="main")
    fingerprint(settings, "cc3m", workers=1)
    [(release, manifest)] = Catalog(settings).select("cc3m")
    photos = [(p.name, edited_copy(p)) for p in sorted((shared_data / PHOTOS).glob("*.jpg"))]
    folder = tmp_path / "queries"
    folder.mkdir()
    for name, data in photos:
        (folder / name).write_bytes(data)
    local = ImageSearch(Catalog(settings)).search(photos).to_json()
    search_cli = ["search", "--images", str(folder), "--json", "--limit", "100"]
    local_cli = json.loads(run_cli(search_cli, tmp_path, two_nodes.address))
    assert {m["method"] for m in local["matches"]} == {"same_image"}  # found by PDQ alone
    assert len(local["matches"]) >= 9

    holder = two_nodes.add_node("holder")
    head = two_nodes.cluster.head_node.node_id
    options = RayOptions(address=two_nodes.address)
    nodes = [head, holder.node_id]
    placed = deploy_index(
        "pdq", release.dir / "pdq", placement_path(release), options, label="cc3m", nodes=nodes
    )
    recorded = json.loads(placement_path(release).read_text())["holders"]
    # placement is what the actors reported: one index shard on each node
    assert [(h["node_id"], h["shards"]) for h in recorded] == [
        (head, ["shard-000001"]),
        (holder.node_id, ["shard-000002"]),
    ]
    assert [h.node_id for h in placed] == [head, holder.node_id]

    search = ImageSearch(Catalog(settings), fanout_views(Catalog(settings), options, timeout=60))
    assert search.search(photos).to_json() == local
    fanned_cli = run_cli([*search_cli, "--ray-address", two_nodes.address], tmp_path,
                         two_nodes.address)  # fmt: skip
    assert json.loads(fanned_cli) == local_cli

    two_nodes.cluster.remove_node(holder, allow_graceful=False)
    lost_key = "index_shards_not_searched"
    partial = answer_after_loss(lambda: search.search(photos).to_json(), lost_key)
    assert partial["index_shards_not_searched"] == ["cc3m/main:shard-000002"]
    assert "index_shards_not_searched" not in local
    assert partial["not_found"] == []  # a file without a match is not claimed absent
    # what was searched is answered in full: the first catalog shard's rows (its index
    # shard stayed on the head)
    lost = manifest.sources[1].relpath
    kept = [m for m in local["matches"] if m["shard"] != lost]
    assert 0 < len(kept) < len(local["matches"])
    assert partial["matches"] == kept

    # placed again over the nodes still alive, the search is complete again
    run_cli(["place-index", "-d", "cc3m"], tmp_path, two_nodes.address)
    alive = {h["node_id"] for h in json.loads(placement_path(release).read_text())["holders"]}
    assert holder.node_id not in alive
    again = run_cli([*search_cli, "--ray-address", two_nodes.address], tmp_path,
                    two_nodes.address)  # fmt: skip
    assert json.loads(again) == local_cli
