"""Issue 8 benchmark: face search latency at 1M embeddings, traindex vs in-memory faiss flat.

Data: 1,000,000 random-but-realistic 128-d embeddings: unit-norm, clustered like faces
(100,000 "people" with ~10 photos each; a person's photos sit ~0.4 apart, different
people ~1.4, close to what dlib embeddings show once scaled to unit norm). Queries are
200 new photos of indexed people, so each has ~10 true matches within 0.6.

Compared on the same data and queries, one thread each (the machine is shared):
- ``VectorIndex`` (traindex): faiss ``IndexFlatL2`` shards memory-mapped from disk, as
  the server opens them, range search at 0.6 (what ``FaceSearch`` runs) and 10-NN;
- ``faiss.IndexFlatL2`` fully in RAM, the baseline, same two searches;
- the answers must be identical (checked), plus RSS after opening and on-disk size.

    python bench/faces_search.py [--size 1000000] [--queries 200]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import psutil
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from _common import emit, percentiles
from traindex.index.vectors import VectorIndex

__all__ = ["main", "realistic_embeddings"]

DIM = 128
THRESHOLD = 0.6
PER_PERSON = 10
SPREAD = 0.4 / np.sqrt(2 * DIM)  # per-coordinate noise: two photos of one person ~0.4 apart


def realistic_embeddings(
    size: int, queries: int, rng: np.random.Generator
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """``size`` unit-norm clustered embeddings and ``queries`` new photos of those people."""
    people = max(1, size // PER_PERSON)
    centres = rng.standard_normal((people, DIM), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    owners = rng.integers(0, people, size)
    data = np.empty((size, DIM), np.float32)
    for lo in range(0, size, 100_000):  # in blocks: temporaries stay small
        hi = min(size, lo + 100_000)
        block = centres[owners[lo:hi]] + SPREAD * rng.standard_normal((hi - lo, DIM), np.float32)
        data[lo:hi] = block / np.linalg.norm(block, axis=1, keepdims=True)
    picked = centres[owners[rng.integers(0, size, queries)]]
    query = picked + SPREAD * rng.standard_normal((queries, DIM), np.float32)
    return data, (query / np.linalg.norm(query, axis=1, keepdims=True)).astype(np.float32)


def _rss_mb() -> float:
    """Current resident memory (not the peak: the generated data is already resident)."""
    return float(psutil.Process().memory_info().rss) / 1e6


def _time_pair(
    ours: Any, theirs: Any, queries: NDArray[np.float32]
) -> tuple[dict[str, float], dict[str, float], list[Any], list[Any]]:
    """Per query, run both (alternating which goes first), so load on the shared machine
    hits both alike; returns both latency summaries and both answer lists."""
    times: tuple[list[float], list[float]] = ([], [])
    answers: tuple[list[Any], list[Any]] = ([], [])
    for i, q in enumerate(queries):
        order = (0, 1) if i % 2 == 0 else (1, 0)
        for which in order:
            fn = (ours, theirs)[which]
            started = time.perf_counter()
            answers[which].append(fn(q[None, :]))
            times[which].append(time.perf_counter() - started)
    return percentiles(times[0]), percentiles(times[1]), answers[0], answers[1]


def _faiss_range(index: faiss.Index, q: NDArray[np.float32]) -> set[int]:
    _, dist, ids = index.range_search(q, THRESHOLD**2)
    return set(ids[dist <= THRESHOLD**2].tolist())


def _compare(
    ours: VectorIndex, flat: faiss.Index, queries: NDArray[np.float32]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Latency rows for range (0.6) and 10-NN on both indexes, and whether answers agree."""
    ours_range, flat_range, ours_hits, flat_hits = _time_pair(
        lambda q: set(ours.range_search(q, THRESHOLD).ids.tolist()),
        lambda q: _faiss_range(flat, q),
        queries,
    )
    ours_knn, flat_knn, ours_nn, flat_nn = _time_pair(
        lambda q: ours.search(q, 10)[0][0].tolist(),
        lambda q: flat.search(q, 10)[1][0].tolist(),
        queries,
    )
    rows: list[dict[str, Any]] = [
        {"search": "traindex VectorIndex (mmap) range <= 0.6", **ours_range},
        {"search": "faiss IndexFlatL2 (RAM) range <= 0.6", **flat_range},
        {"search": "traindex VectorIndex (mmap) 10-NN", **ours_knn},
        {"search": "faiss IndexFlatL2 (RAM) 10-NN", **flat_knn},
    ]
    rows[0]["vs faiss"] = rows[0]["p50_ms"] / rows[1]["p50_ms"]
    rows[2]["vs faiss"] = rows[2]["p50_ms"] / rows[3]["p50_ms"]
    same_range = sum(a == b for a, b in zip(ours_hits, flat_hits, strict=True))
    same_knn = sum(a == b for a, b in zip(ours_nn, flat_nn, strict=True))
    return rows, {
        "mean_matches_per_query": float(np.mean([len(h) for h in ours_hits])),
        "identical_range_answers": f"{same_range}/{len(queries)}",
        "identical_knn_answers": f"{same_knn}/{len(queries)}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    faiss.omp_set_num_threads(1)
    data, queries = realistic_embeddings(args.size, args.queries, np.random.default_rng(8))
    folder = Path(tempfile.mkdtemp(prefix="faces-bench-"))
    try:
        started = time.perf_counter()
        VectorIndex.create(folder / "v", DIM, "l2").add(data)
        meta: dict[str, Any] = {"size": args.size, "queries": args.queries, "threads": 1}
        meta["build_seconds"] = time.perf_counter() - started
        rss_before = _rss_mb()
        ours = VectorIndex.open(folder / "v")
        meta["rss_mb_after_open_mmap"] = _rss_mb() - rss_before
        meta["disk_mb"] = sum(p.stat().st_size for p in (folder / "v").rglob("*")) / 1e6
        meta["in_memory_faiss_mb"] = data.nbytes / 1e6
        flat = faiss.IndexFlatL2(DIM)
        flat.add(data)
        rows, agreement = _compare(ours, flat, queries)
        meta.update(agreement)
        title = (
            f"Face search over {args.size:,} 128-d embeddings, one thread, {args.queries} queries"
        )
        emit("faces_search", title, rows, meta)
        print(
            ", ".join(
                f"{k}: {v:.1f}" if isinstance(v, float) else f"{k}: {v}" for k, v in meta.items()
            )
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
