"""Issue 20 benchmark: PDQ search fanned out over a real two-node Ray cluster vs in-process.

In one run, over the same index of ``--shards`` shards: the in-process index
(``MultiIndexHashIndex.search``, one thread) and the fanned-out one (``search.fanout``:
half the shards held by an actor on each of two raylets on 127.0.0.1, the batch sent to
both, hits merged). Both answer the same query batch (half near-copies of stored hashes,
half random) at radius 31; the answers are checked equal before timing. The overhead
ratio is fan-out p50 / in-process p50 (issue target: <= 1.5 at 16 shards).

    python bench/fanout_search.py [--shards 16] [--per-shard 50000] [--batch 64]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.update(
    RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0", RAY_AUTH_MODE="disabled", RAY_USAGE_STATS_ENABLED="0"
)
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np

from _common import emit, percentiles
from traindex.index.binary import MultiIndexHashIndex
from traindex.jobs.ray import RayOptions
from traindex.search.fanout import FanoutHashes, deploy_pdq

RADIUS = 31


def _queries(stored: np.ndarray, batch: int, rng: np.random.Generator) -> np.ndarray:
    near = stored[rng.choice(len(stored), batch // 2, replace=False)].copy()
    bits = np.unpackbits(near, axis=1)
    for row in bits:
        row[rng.choice(256, 12, replace=False)] ^= 1  # 12 bits off: a typical edited copy
    random = rng.integers(0, 256, (batch - batch // 2, 32), dtype=np.uint8)
    return np.concatenate([np.packbits(bits, axis=1), random])


def _time(searches: dict[str, object], queries: np.ndarray, reps: int) -> dict[str, dict]:
    """p50/p95 per search, the searches interleaved rep by rep so that a shared machine's
    changing load hits both alike."""
    samples: dict[str, list[float]] = {name: [] for name in searches}
    for _ in range(reps):
        for name, index in searches.items():
            started = time.perf_counter()
            index.search(queries, RADIUS)  # type: ignore[attr-defined]
            samples[name].append(time.perf_counter() - started)
    return {name: percentiles(s) for name, s in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shards", type=int, default=16)
    parser.add_argument("--per-shard", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--reps", type=int, default=30)
    args = parser.parse_args()
    import ray
    from ray.cluster_utils import Cluster

    rng = np.random.default_rng(0)
    stored = rng.integers(0, 256, (args.shards * args.per_shard, 32), dtype=np.uint8)
    queries = _queries(stored, args.batch, rng)
    work = Path(tempfile.mkdtemp(prefix="traindex-fanout-"))
    MultiIndexHashIndex(work / "pdq", shard_size=args.per_shard).add(stored)
    local = MultiIndexHashIndex(work / "pdq")
    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 1, "include_dashboard": False, "object_store_memory": 2**27},
    )
    try:
        node = cluster.add_node(num_cpus=1, object_store_memory=2**27)
        cluster.wait_for_nodes(timeout=120)
        options = RayOptions(address=cluster.address)
        nodes = [cluster.head_node.node_id, node.node_id]
        holders = deploy_pdq(
            work / "pdq", work / "placement.json", options, label="bench", nodes=nodes
        )
        fanout = FanoutHashes(holders, options, 120, "pdq")
        expected = local.search(queries, RADIUS)
        assert fanout.search(queries, RADIUS).as_sets() == expected.as_sets()
        timings = _time({"in-process": local, "fan-out (2 nodes)": fanout}, queries, args.reps)
    finally:
        ray.shutdown()
        cluster.shutdown()
    base = timings["in-process"]
    rows = [
        {"search": name, "p50 ms": t["p50_ms"], "p95 ms": t["p95_ms"],
         "p50 ratio": t["p50_ms"] / base["p50_ms"]}
        for name, t in timings.items()
    ]  # fmt: skip
    emit(
        "fanout_search",
        f"PDQ search, {args.shards} shards x {args.per_shard:,} hashes, batch {args.batch}",
        rows,
        {**vars(args), "hits": len(expected), "radius": RADIUS, "timings": timings},
    )


if __name__ == "__main__":
    main()
