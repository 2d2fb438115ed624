"""Issue 3 benchmark: PDQ range search at 1M and 10M hashes, against faiss, in one run.

For each size, on the same realistic data (random 256-bit hashes plus clusters of near
duplicates, as in LAION, plus planted near matches for the queries):
- single-query latency p50/p95 of traindex's multi-index-hashing index (memory-mapped from
  disk) vs ``faiss.IndexBinaryFlat`` range search, both on one thread;
- batch throughput (per query) for both, and traindex with every core;
- recall against the exact answer (faiss flat, itself checked against the numpy oracle);
- memory per hash, on-disk size and build time.
The 1,000-image portfolio end to end (files on disk, the real ``ImageSearch`` path) is
``bench/portfolio_search.py``.

    python bench/pdq_index_speed.py [--sizes 1000000,10000000] [--queries 200]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))


from _common import emit, percentiles
from traindex.index.binary import MultiIndexHashIndex
from traindex.index.brute import scan

__all__ = ["main", "realistic_hashes"]

RADIUS = 31
Hashes = NDArray[np.uint8]


def flip_random_bits(rows: Hashes, flips: NDArray[np.int64], rng: np.random.Generator) -> Hashes:
    """Copy of ``rows`` with up to ``flips[i]`` random bits flipped (repeats may cancel)."""
    out = rows.copy()
    positions = rng.integers(0, 256, (rows.shape[0], int(flips.max(initial=0))))
    for j in range(positions.shape[1]):
        sel = np.flatnonzero(flips > j)
        pos = positions[sel, j]
        out[sel, pos // 8] ^= (1 << (pos % 8)).astype(np.uint8)
    return out


def exact_flips(rows: Hashes, distances: NDArray[np.int64], rng: np.random.Generator) -> Hashes:
    """Copy of ``rows`` at exactly ``distances[i]`` bits from row ``i``."""
    bits = np.unpackbits(rows, axis=1)
    for i, d in enumerate(distances.tolist()):
        bits[i, rng.choice(256, size=d, replace=False)] ^= 1
    return np.packbits(bits, axis=1)


def realistic_hashes(count: int, rng: np.random.Generator) -> Hashes:
    """80% distinct random hashes, 20% near-duplicate copies in Zipf-sized clusters (<= 1,000).

    Real PDQ bits are balanced and nearly uncorrelated (measured on 17k tiles of the shared
    photos: bit means 0.49-0.51, max |correlation| 0.11), so random bits model distinct
    images; what real data adds is duplication (the same photo crawled many times, resized
    and re-encoded), which makes buckets and hit lists uneven.
    """
    data = rng.integers(0, 256, (count, 32), dtype=np.uint8)
    copies = count // 5
    sizes = np.minimum(rng.zipf(2.0, copies), 1_000)
    sizes = sizes[: int(np.searchsorted(np.cumsum(sizes), copies)) + 1]
    sources = np.repeat(rng.integers(0, count - copies, sizes.size), sizes)[:copies]
    block = 1 << 20
    for start in range(0, sources.size, block):
        src = sources[start : start + block]
        data[count - copies + start : count - copies + start + src.size] = flip_random_bits(
            data[src], rng.integers(0, 25, src.size), rng
        )
    return data


def plant_queries(data: Hashes, count: int, rng: np.random.Generator) -> Hashes:
    """Queries: 1/2 with 1-5 planted copies at 0-40 bits, 1/4 cluster members, 1/4 unrelated."""
    queries = rng.integers(0, 256, (count, 32), dtype=np.uint8)
    half, quarter = count // 2, count // 4
    slots = rng.choice(data.shape[0] - data.shape[0] // 5, half * 5, replace=False)
    for q in range(half):
        copies = int(rng.integers(1, 6))
        targets = slots[q * 5 : q * 5 + copies]
        data[targets] = exact_flips(
            np.repeat(queries[q : q + 1], copies, 0), rng.integers(0, 41, copies), rng
        )
    members = rng.integers(data.shape[0] - data.shape[0] // 5, data.shape[0], quarter)
    queries[half : half + quarter] = flip_random_bits(
        data[members], rng.integers(0, 10, quarter), rng
    )
    return queries


def faiss_truth(flat: Any, queries: Hashes) -> list[set[int]]:
    """Exact answer from faiss (its binary range search keeps distance < radius)."""
    lims, _, ids = flat.range_search(queries, RADIUS + 1)
    return [set(ids[lims[i] : lims[i + 1]].tolist()) for i in range(queries.shape[0])]


def check_oracle(data: Hashes, queries: Hashes, truth: list[set[int]]) -> None:
    for q in range(min(5, queries.shape[0])):
        rows, _ = scan(data, queries[q], RADIUS)
        if set(rows.tolist()) != truth[q]:
            raise SystemExit(f"faiss and the numpy oracle disagree on query {q}")


def latencies(search: Any, queries: Hashes, count: int) -> dict[str, float]:
    samples = []
    for q in range(min(count, queries.shape[0])):
        started = time.perf_counter()
        search(queries[q : q + 1])
        samples.append(time.perf_counter() - started)
    return percentiles(samples)


def per_query_ms(search: Any, queries: Hashes) -> float:
    started = time.perf_counter()
    search(queries)
    return (time.perf_counter() - started) * 1000.0 / queries.shape[0]


def build_index(
    data: Hashes, folder: Path, widths: tuple[int, ...] | None
) -> tuple[MultiIndexHashIndex, dict[str, Any]]:
    started = time.perf_counter()
    MultiIndexHashIndex(folder, chunk_widths=widths).add(data)
    build_s = time.perf_counter() - started
    index = MultiIndexHashIndex(folder)
    shard = index._shards[0]
    arrays = ("hashes", "ids", "widths", "offsets", "postings")
    ram = sum(getattr(shard, name).nbytes for name in arrays)
    disk = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    info = {
        "build_s": build_s,
        "chunks": len(shard.widths),
        "bytes_per_hash": ram / len(data),
        "disk_mb": disk / 1e6,
    }
    return index, info


def measure_faiss(flat: Any, queries: Hashes, args: argparse.Namespace) -> dict[str, Any]:
    single = latencies(lambda q: flat.range_search(q, RADIUS + 1), queries, args.faiss_queries)
    batch = per_query_ms(lambda q: flat.range_search(q, RADIUS + 1), queries[: args.faiss_queries])
    return {
        "faiss_flat_p50_ms": single["p50_ms"],
        "faiss_flat_p95_ms": single["p95_ms"],
        "faiss_batch_ms": batch,
    }


def measure_index(
    index: MultiIndexHashIndex, queries: Hashes, truth: list[set[int]], args: argparse.Namespace
) -> dict[str, Any]:
    hits = index.search(queries)
    got = [{int(i) for i in hits.for_query(q)[0]} for q in range(queries.shape[0])]
    expected = sum(len(t) for t in truth)
    single = latencies(index.search, queries, args.queries)
    return {
        "traindex_p50_ms": single["p50_ms"],
        "traindex_p95_ms": single["p95_ms"],
        "batch_ms_per_query": per_query_ms(index.search, queries),
        "batch_all_cores_ms": per_query_ms(
            lambda q: index.search(q, workers=os.cpu_count() or 1), queries
        ),
        "recall": sum(len(g & t) for g, t in zip(got, truth, strict=True)) / max(1, expected),
        "hits_expected": expected,
        "exact_equal": got == truth,
    }


def run_size(
    count: int, args: argparse.Namespace, rng: np.random.Generator
) -> tuple[list[dict[str, Any]], list[tuple[str, MultiIndexHashIndex, Path]]]:
    """Measure faiss flat and each index layout on one data set of ``count`` hashes."""
    data = realistic_hashes(count, rng)
    queries = plant_queries(data, args.queries, rng)
    faiss.omp_set_num_threads(1)
    flat = faiss.IndexBinaryFlat(256)
    flat.add(data)
    truth = faiss_truth(flat, queries)
    check_oracle(data, queries, truth)
    reference = measure_faiss(flat, queries, args)
    layouts: list[tuple[str, tuple[int, ...] | None]] = [("auto", None)]
    if count == max(int(s) for s in args.sizes.split(",")):
        layouts.append(("16 x 16-bit chunks", (16,) * 16))
    rows, built = [], []
    for label, widths in layouts:
        folder = Path(tempfile.mkdtemp(prefix="pdq-bench-", dir=args.work))
        index, info = build_index(data, folder, widths)
        measured = measure_index(index, queries, truth, args)
        speedup = reference["faiss_flat_p50_ms"] / measured["traindex_p50_ms"]
        rows.append(
            {
                "hashes": f"{count:,}",
                "layout": label,
                **measured,
                **reference,
                "speedup_p50": speedup,
                **info,
            }
        )
        built.append((f"{count:,} {label}", index, folder))
    return rows, built


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--faiss-queries", type=int, default=100)
    parser.add_argument("--work", default=None, help="folder for index shards (default: tmp)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    load = os.getloadavg()[0]
    started = time.perf_counter()
    rng = np.random.default_rng(2024)
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    for count in sizes:
        measured, built = run_size(count, args, rng)
        rows += measured
        for _, _, folder in built:
            shutil.rmtree(folder, ignore_errors=True)
    meta = {
        "load_avg_1m_at_start": load,
        "radius": RADIUS,
        "cpus": os.cpu_count(),
        "faiss": faiss.__version__,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "wall_s": round(time.perf_counter() - started),
    }
    emit("pdq_index_speed", "PDQ range search (radius 31) vs faiss IndexBinaryFlat", rows, meta)


if __name__ == "__main__":
    main()
