"""Face, CLIP and near-copy region indexes fanned out over a real two-node Ray cluster, like
PDQ: placement is recorded, each answer equals the in-process one, and a holder that stops
answering is named (``<kind>/<shard>``) in the answer's coverage."""

from __future__ import annotations

import csv
import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

from traindex.catalog.locations import split_loc
from traindex.catalog.store import Catalog, Release
from traindex.config import Settings
from traindex.fingerprint.clip import ClipEncoder
from traindex.fingerprint.faces import FaceOptions
from traindex.index.vectors import VectorIndex
from traindex.ingest.pipeline import ingest
from traindex.jobs.fingerprint import fingerprint
from traindex.jobs.ray import RayOptions
from traindex.nearcopy.check import NearCopyChecker
from traindex.search.faces import FaceSearch
from traindex.search.fanout import fanout_views
from traindex.search.placement import IndexKind, deploy_index, index_dir, placement_path
from traindex.search.similar import SimilarSearch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from raycluster import (
    PHOTOS,
    TwoNodes,
    edited_copy,
    fingerprinted_cc3m,
    fresh_driver,
    kill_holder,
    run_cli,
    two_nodes,
)

pytestmark = [pytest.mark.shared, pytest.mark.slow]
__all__ = ["two_nodes"]  # the session fixture, imported so pytest finds it

KNN = "face_recognition/examples/knn_examples/train"
FACES = ["obama/obama.jpg", "obama/obama2.jpg", "biden/biden.jpg", "biden/biden2.jpg",
         "kit_harington/john1.jpeg", "rose_leslie/img1.jpg"]  # fmt: skip
LAYOUT = "_generated/clip-retrieval-vitb32-embeddings-laion-layout"
"""7 real ViT-B/32 image embeddings in LAION's layout (img_emb/*.npy + metadata)."""
CLIP_IMAGES = "clip-retrieval/tests/test_clip_inference/test_images"


def _clip_model(folder: Path) -> Path:
    """The unit tests' tiny random-weight CLIP export (their conftest writes it)."""
    path = Path(__file__).resolve().parents[1] / "unit" / "clip" / "conftest.py"
    spec = importlib.util.spec_from_file_location("tiny_clip_model", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.write_model(folder)  # type: ignore[no-any-return]


def _gallery(shared_data: Path, folder: Path) -> Path:
    """Face photos as image files plus a CSV catalog of them."""
    folder.mkdir()
    rows = []
    for number, ref in enumerate(FACES):
        name = f"p{number}{Path(ref).suffix}"
        (folder / name).write_bytes((shared_data / KNN / ref).read_bytes())
        rows.append({"key": f"p{number}", "url": f"https://photos.example.org/{name}"})
    table = folder.parent / "gallery.csv"
    with table.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["key", "url"])
        writer.writeheader()
        writer.writerows(rows)
    return table


def _place(release: Release, kind: IndexKind, two_nodes: TwoNodes) -> list[dict[str, object]]:
    """Place one index over the head and the worker node; the recorded holders."""
    nodes = [two_nodes.cluster.head_node.node_id, two_nodes.worker.node_id]
    options = RayOptions(address=two_nodes.address)
    deploy_index(kind, index_dir(release, kind), placement_path(release, kind), options,
                 label=f"more-{kind}", nodes=nodes)  # fmt: skip
    holders: list[dict[str, object]] = json.loads(placement_path(release, kind).read_text())[
        "holders"
    ]
    assert len({h["node_id"] for h in holders}) == 2  # shards on both nodes
    return holders


def _kill_holder_of(holders: list[dict[str, object]], shard: str) -> None:
    [gone] = [h for h in holders if shard in h["shards"]]  # type: ignore[operator]
    kill_holder(str(gone["actor"]))


def test_fanned_out_faces_equal_in_process_and_name_lost_shards(
    shared_data: Path, two_nodes: TwoNodes, tmp_path: Path
) -> None:
    fresh_driver()
    settings = Settings(home=tmp_path / "home")
    # a face index of 3 shards (2 faces each, as a large one holds millions per shard)
    ingest(settings, _gallery(shared_data, tmp_path / "faces"), dataset="faces", release="r")
    [(release, _)] = Catalog(settings).select("faces")
    VectorIndex.create(index_dir(release, "faces"), 128, "l2", shard_size=2)
    fingerprint(settings, "faces", images=tmp_path / "faces", workers=1, faces=FaceOptions())
    assert VectorIndex.open(index_dir(release, "faces")).shard_sizes == [2, 2, 2]
    query = (shared_data / KNN / "obama/obama.jpg").read_bytes()
    local = FaceSearch(Catalog(settings)).search(query, dataset="faces").to_json()
    assert {m["url"].rsplit("/", 1)[1] for m in local["matches"]} == {"p0.jpg", "p1.jpg"}

    holders = _place(release, "faces", two_nodes)
    options = RayOptions(address=two_nodes.address)
    search = FaceSearch(Catalog(settings), fanout_views(Catalog(settings), options, timeout=60))
    assert search.search(query, dataset="faces").to_json() == local
    # the CLI: `search --face ... --ray-address` answers as it does from the local disk
    cli = ["search", "--face", str(shared_data / KNN / "obama/obama.jpg"), "--json"]
    home = settings.home
    fanned_cli = run_cli([*cli, "--ray-address", two_nodes.address], home, two_nodes.address)
    assert json.loads(fanned_cli) == json.loads(run_cli(cli, home, two_nodes.address))

    # a lost holder: its shards are named, and the query whose matches sat there is not
    # claimed absent
    _kill_holder_of(holders, "shard-000001")  # obama's two faces, and shard 3
    partial = search.search(query, dataset="faces").to_json()
    [covered] = partial["coverage"]["releases"]
    assert covered["index_shards_not_searched"] == ["faces/shard-000001", "faces/shard-000003"]
    assert covered["state"] == partial["coverage"]["state"] == "partly searched"
    assert partial["matches"] == []
    lost_cli = run_cli([*cli, "--ray-address", two_nodes.address], home, two_nodes.address)
    assert json.loads(lost_cli)["coverage"] == partial["coverage"]  # the CLI asked the holders


def test_fanned_out_clip_equals_in_process_and_names_lost_shards(
    shared_data: Path, two_nodes: TwoNodes, tmp_path: Path
) -> None:
    fresh_driver()
    settings = Settings(home=tmp_path / "home")
    ingest(settings, shared_data / LAYOUT, dataset="clip", release="r")
    encoder = ClipEncoder(_clip_model(tmp_path / "model"))
    similar = SimilarSearch(Catalog(settings), encoder)
    [view] = similar.views.select("clip")
    assert similar.index(view) is not None  # built: one shard of 7 embeddings
    [(release, _)] = Catalog(settings).select("clip")
    flat = index_dir(release, "clip")  # rewritten as 3 shards, as a large one would be
    vectors, ids = VectorIndex.open(flat).vectors()
    split = flat.with_name("split")
    VectorIndex.create(split, vectors.shape[1], "ip", shard_size=3).add(vectors, ids)
    shutil.rmtree(flat)
    split.rename(flat)
    photos = [(p.name, p.read_bytes()) for p in sorted((shared_data / CLIP_IMAGES).glob("*.jpg"))]
    local = SimilarSearch(Catalog(settings), encoder).search_images(photos, limit=7).to_json()
    local_text = SimilarSearch(Catalog(settings), encoder).search_text("a dog", limit=7)
    assert local["total"] > 0

    holders = _place(release, "clip", two_nodes)
    options = RayOptions(address=two_nodes.address)
    fanned = fanout_views(Catalog(settings), options, timeout=60)
    search = SimilarSearch(Catalog(settings), encoder, views=fanned)
    assert search.search_images(photos, limit=7).to_json() == local
    assert search.search_text("a dog", limit=7).to_json() == local_text.to_json()

    _kill_holder_of(holders, "shard-000002")
    lost = search.search_images(photos, limit=7).to_json()
    [covered] = lost["coverage"]["releases"]
    assert covered["index_shards_not_searched"] == ["clip/shard-000002"]
    assert covered["state"] == "partly searched"
    # what was reached is answered in full: every in-process hit outside shard 2's rows
    unreached = {split_loc(int(i))[1] for i in ids[3:6]}
    every = SimilarSearch(Catalog(settings), encoder).search_images(photos, limit=49).to_json()
    expected = [m for m in every["matches"] if m["row"] not in unreached]
    assert 0 < len(expected) < every["total"]
    assert lost["matches"] == expected[:7]


def test_fanned_out_near_copy_regions_equal_in_process_and_name_lost_shards(
    shared_data: Path, two_nodes: TwoNodes, tmp_path: Path
) -> None:
    settings, release = fingerprinted_cc3m(shared_data, tmp_path)
    run_cli(["nearcopy-index", "-d", "cc3m"], tmp_path, two_nodes.address)
    outputs = [(p.name, edited_copy(p)) for p in sorted((shared_data / PHOTOS).glob("*.jpg"))]
    local = NearCopyChecker(Catalog(settings)).check(outputs).to_json()
    tiles = [e for r in local["results"] for m in r["matches"] for e in m["evidence"]
             if e["kind"] == "tile"]  # fmt: skip
    assert tiles  # the region index contributes evidence

    # place-index places the region index with the others (and the PDQ index)
    run_cli(["place-index", "-d", "cc3m"], tmp_path, two_nodes.address)
    holders = json.loads(placement_path(release, "tiles").read_text())["holders"]
    assert sorted(s for h in holders for s in h["shards"]) == ["shard-000001", "shard-000002"]
    options = RayOptions(address=two_nodes.address)
    checker = NearCopyChecker(Catalog(settings), views=fanout_views(Catalog(settings), options))
    assert checker.check(outputs).to_json() == local

    _kill_holder_of(holders, "shard-000002")
    partial = checker.check(outputs).to_json()
    assert partial["coverage"]["cc3m/main"]["index_shards_not_searched"] == ["tiles/shard-000002"]
    assert "index_shards_not_searched" not in local["coverage"]["cc3m/main"]
