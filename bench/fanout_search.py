"""Issue 20 benchmark: search fanned out over a real two-node Ray cluster vs in-process.

In one run, for three indexes of ``--shards`` shards each - PDQ hashes, 128-d face
embeddings (Euclidean) and 512-d CLIP embeddings (inner product) - the in-process index
(one thread) and the fanned-out one (``search.fanout``: half the shards held by an actor
on each of two raylets on 127.0.0.1, the batch sent to both, hits merged). Queries: PDQ, a
batch of ``--batch`` hashes (half near-copies of stored ones, half random) at radius 31;
faces, one face (what a face search asks) within 0.6 of a stored one; CLIP, 8 embeddings,
their 20 nearest. And the catalog: ``--shards`` LAION-like source files of
``--catalog-rows`` rows each, one release, searched through ``SearchService`` by exact URL
and by caption words (``ingest_lookup``'s queries), in-process vs with the catalog shards
held on both nodes. Answers are checked equal before timing. The overhead ratio is fan-out
p50 / in-process p50 (issue target: <= 1.5 at 16 shards). A query reaches the holders over
their channels (``search.channel``), as every fanned-out search does; the "floor" rows
time an empty round trip to both catalog holders, as a Ray actor call each (``ray.get``
of a trivial method) and over the channels, i.e. the fixed cost of a fan-out either way.

    python bench/fanout_search.py [--shards 16] [--per-shard 50000] [--vectors 5000]
                                  [--catalog-rows 20000]
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.update(
    RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0", RAY_AUTH_MODE="disabled", RAY_USAGE_STATS_ENABLED="0"
)
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np

from _common import emit, percentiles
from ingest_lookup import _queries as catalog_queries
from laion_like import generate
from traindex.catalog.store import Catalog, Release
from traindex.config import Settings
from traindex.index.binary import MultiIndexHashIndex
from traindex.index.vectors import VectorIndex
from traindex.ingest.pipeline import ingest
from traindex.jobs.ray import RayOptions
from traindex.search.fanout import FanoutHashes, FanoutKeys, FanoutVectors, fanout_views
from traindex.search.placement import (
    NAMESPACE,
    IndexKind,
    deploy_index,
    load_placement,
    placement_path,
)
from traindex.search.queries import Query
from traindex.search.service import SearchService

RADIUS = 31
FACE_RADIUS = 0.6
CLIP_K = 20


def _queries(stored: np.ndarray, batch: int, rng: np.random.Generator) -> np.ndarray:
    near = stored[rng.choice(len(stored), batch // 2, replace=False)].copy()
    bits = np.unpackbits(near, axis=1)
    for row in bits:
        row[rng.choice(256, 12, replace=False)] ^= 1  # 12 bits off: a typical edited copy
    random = rng.integers(0, 256, (batch - batch // 2, 32), dtype=np.uint8)
    return np.concatenate([np.packbits(bits, axis=1), random])


def _time(calls: dict[str, object], reps: int) -> dict[str, dict]:
    """p50/p95 per call, the calls interleaved rep by rep so that a shared machine's
    changing load hits both alike."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(reps):
        for name, call in calls.items():
            started = time.perf_counter()
            call()  # type: ignore[operator]
            samples[name].append(time.perf_counter() - started)
    return {name: percentiles(s) for name, s in samples.items()}


def _vectors(rng: np.random.Generator, count: int, dim: int, unit: bool) -> np.ndarray:
    vectors = rng.normal(size=(count, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True) if unit else vectors * 0.1


def _cases(work: Path, args: argparse.Namespace, rng: np.random.Generator) -> dict[str, Any]:
    """Per index kind: its folder, the in-process call and how to make the fanned one."""
    stored = rng.integers(0, 256, (args.shards * args.per_shard, 32), dtype=np.uint8)
    hashes = _queries(stored, args.batch, rng)
    MultiIndexHashIndex(work / "pdq", shard_size=args.per_shard).add(stored)
    pdq = MultiIndexHashIndex(work / "pdq")
    faces = _vectors(rng, args.shards * args.vectors, 128, unit=False)
    VectorIndex.create(work / "faces", 128, "l2", shard_size=args.vectors).add(faces)
    face = faces[:1] + 0.01  # one face, near one stored face
    clip = _vectors(rng, args.shards * args.vectors, 512, unit=True)
    VectorIndex.create(work / "clip", 512, "ip", shard_size=args.vectors).add(clip)
    texts = _vectors(rng, 8, 512, unit=True)
    face_index, clip_index = VectorIndex.open(work / "faces"), VectorIndex.open(work / "clip")
    return {
        "pdq": (lambda ix: ix.search(hashes, RADIUS), pdq, "hits"),
        "faces": (lambda ix: ix.range_search(face, FACE_RADIUS), face_index, "hits"),
        "clip": (lambda ix: ix.knn(texts, CLIP_K).top_k(CLIP_K, "ip")[0], clip_index, "ids"),
    }


def _catalog(work: Path, args: argparse.Namespace) -> tuple[Settings, Release, dict]:
    """A LAION-like release of ``--shards`` source files, and URL and caption queries."""
    data = work / "laion-like"
    generate(data, args.shards * args.catalog_rows, per_file=args.catalog_rows)
    settings = Settings(home=work / "home")
    ingest(settings, data, dataset="laion-like", release="bench", fmt="laion")
    [(release, _)] = Catalog(settings).select("laion-like")
    found = catalog_queries(data, 40)
    return settings, release, {"url": found["url"], "text": found["text"]}


def _catalog_calls(
    settings: Settings, options: RayOptions, queries: dict[str, list[str]]
) -> dict[str, dict[str, object]]:
    """Per query kind, the in-process and the fanned-out search, each call the next query;
    every query's answers checked equal first (up to ties at the page's cut)."""
    local = SearchService(Catalog(settings))
    fanned = SearchService(Catalog(settings), fanout_views(Catalog(settings), options, 120))

    def ranked(service: SearchService, query: Query) -> tuple[int, list, set]:
        """Total, scores, and the hits above the lowest score: which of the hits tied at
        the cut make the page is the index's choice (in-process: index order)."""
        answer = service.search(query, limit=20).to_json()
        hits = [(m["score"], m["shard"], m["row"]) for m in answer["matches"]]
        cut = min((score for score, _, _ in hits), default=0.0)
        return answer["total"], sorted(h[0] for h in hits), {h for h in hits if h[0] > cut}

    calls: dict[str, dict[str, object]] = {}
    for kind, values in queries.items():
        asked = [Query(kind, v) for v in values]
        for query in asked:
            assert ranked(local, query) == ranked(fanned, query), query
        mine, theirs = itertools.cycle(asked), itertools.cycle(asked)
        calls[f"catalog {kind}"] = {
            "in-process": lambda q=mine: local.search(next(q), limit=20),
            "fan-out (2 nodes)": lambda q=theirs: fanned.search(next(q), limit=20),
        }
    return calls


def _floor_calls(release: Release, options: RayOptions) -> dict[str, object]:
    """An empty round trip to both catalog holders: a Ray actor call each, and over their
    channels (a key look-up of no values in no shards: no index work)."""
    import ray

    holders = load_placement(placement_path(release, "catalog"))
    actors = [ray.get_actor(h.actor, namespace=NAMESPACE) for h in holders]
    keys = FanoutKeys(holders, options, 120, "catalog")
    return {
        "ray actor calls": lambda: ray.get([a.node_id.remote() for a in actors], timeout=120),
        "channels": lambda: keys.gather("rows", "url", [], []),
    }


def _same(kind: str, a: Any, b: Any) -> bool:
    if kind == "pdq":
        return a.as_sets() == b.as_sets()
    if kind == "faces":
        return bool(np.array_equal(a.ids, b.ids) and np.array_equal(a.distances, b.distances))
    return bool(np.array_equal(a, b))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shards", type=int, default=16)
    parser.add_argument("--per-shard", type=int, default=50_000)
    parser.add_argument("--vectors", type=int, default=5_000, help="vectors per shard")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--catalog-rows", type=int, default=20_000, help="rows per file")
    args = parser.parse_args()
    import ray
    from ray.cluster_utils import Cluster

    rng = np.random.default_rng(0)
    work = Path(tempfile.mkdtemp(prefix="traindex-fanout-"))
    cases = _cases(work, args, rng)
    settings, release, texts = _catalog(work, args)
    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 1, "include_dashboard": False, "object_store_memory": 2**27},
    )
    timings: dict[str, dict[str, dict]] = {}
    try:
        node = cluster.add_node(num_cpus=1, object_store_memory=2**27)
        cluster.wait_for_nodes(timeout=120)
        options = RayOptions(address=cluster.address)
        nodes = [cluster.head_node.node_id, node.node_id]
        for kind, (ask, local, _) in cases.items():
            typed: IndexKind = kind
            holders = deploy_index(typed, work / kind, work / f"{kind}.json", options,
                                   label="bench", nodes=nodes)  # fmt: skip
            fanned_class = FanoutHashes if kind == "pdq" else FanoutVectors
            fanned = fanned_class(holders, options, 120, typed)
            assert _same(kind, ask(fanned), ask(local)), kind
            calls = {"in-process": lambda a=ask, i=local: a(i),
                     "fan-out (2 nodes)": lambda a=ask, i=fanned: a(i)}  # fmt: skip
            timings[kind] = _time(calls, args.reps)
        deploy_index("catalog", release.dir, placement_path(release, "catalog"), options,
                      label="bench", nodes=nodes)  # fmt: skip
        for kind, calls in _catalog_calls(settings, options, texts).items():
            timings[kind] = _time(calls, args.reps * 4)
        timings["floor: empty round trip"] = _time(_floor_calls(release, options), args.reps * 4)
    finally:
        ray.shutdown()
        cluster.shutdown()
    rows = []
    for kind, found in timings.items():
        base = next(iter(found.values()))  # in-process (floor: the Ray actor calls)
        rows += [
            {"index": kind, "search": name, "p50 ms": t["p50_ms"], "p95 ms": t["p95_ms"],
             "p50 ratio": t["p50_ms"] / base["p50_ms"]}
            for name, t in found.items()
        ]  # fmt: skip
    emit(
        "fanout_search",
        f"Fan-out over 2 nodes, {args.shards} shards: PDQ {args.per_shard:,} hashes/shard "
        f"(batch {args.batch}), faces and CLIP {args.vectors:,} vectors/shard, catalog "
        f"{args.catalog_rows:,} rows/shard",
        rows,
        {**vars(args), "radius": RADIUS, "face_radius": FACE_RADIUS, "clip_k": CLIP_K,
         "timings": timings},
    )  # fmt: skip


if __name__ == "__main__":
    main()
