"""Issue 3 benchmark: what a keypoint look-up costs, and what the IVF index keeps.

A keypoint index of N images holds 70 %-crops of 40 query photos (real photos, 128 ORB
points each, the dataset side of ``fingerprint --keypoints``) among distractors. The
distractors' descriptors are real ORB descriptors of random views of real photos, but
shuffled across images and given random positions: with only a few dozen source photos,
intact views would all be true partial copies of each other, so every query would verify
hundreds of real matches; shuffled, each distractor costs what an unrelated image costs
(descriptor hits, no geometry). Each query (512 points at 512 px and 512 at 1024 px) is
searched at radius 56 and verified (``search_keypoints``) against:

* the exact index (``IndexBinaryFlat`` shards: the baseline), and
* the IVF index (``IndexBinaryIVF``, 4 sqrt(n) cells, ``nprobe`` 64, 16 (the default) and 4),

reporting latency p50/p95, the ratio to exact, and the share of exact's verified matches
each keeps (planted crops and anything else it verified). Sizes are a flag; index memory
is descriptors (32 B) + owner (8 B) + point (4 B) per stored point.

    python bench/keypoint_search.py [--images 20000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from functools import partial
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from _common import emit, percentiles
from fingerprint_throughput import jpeg, random_view, real_photos
from traindex.fingerprint.keypoints import KeypointOptions, Keypoints, dataset_points, query_points
from traindex.index.keypoints import KeypointIndex
from traindex.search.keypoints import KeypointRules, search_keypoints

OPTIONS = KeypointOptions()
RULES = KeypointRules()


def corpus(images: int, queries: int) -> tuple[list[bytes], list[bytes]]:
    rng = np.random.default_rng(11)
    photos = real_photos()
    rows = [jpeg(random_view(photos[i % len(photos)], rng), 85) for i in range(images - queries)]
    originals = [random_view(photos[i % len(photos)], rng) for i in range(queries)]
    for original in originals:  # the planted copies: a random half-frame crop each
        w, h = original.size
        x, y = int(rng.integers(0, w // 4)), int(rng.integers(0, h // 4))
        rows.append(jpeg(original.crop((x, y, x + int(w * 0.7), y + int(h * 0.7))), 80))
    return rows, [jpeg(o, 90) for o in originals]


def shuffled(distractors: list[Keypoints]) -> list[Keypoints]:
    """Same descriptors and counts, dealt to images at random, at random positions."""
    rng = np.random.default_rng(12)
    pool = np.concatenate([k.descriptors for k in distractors])[
        rng.permutation(sum(len(k) for k in distractors))
    ]
    out, start = [], 0
    for k in distractors:
        size = len(k)
        place = rng.uniform(0, 1, (size, 2)).astype(np.float32)
        out.append(Keypoints(place, pool[start : start + size]))
        start += size
    return out


def build(folder: Path, stored: list[Keypoints], ivf_min: int) -> KeypointIndex:
    index = KeypointIndex(folder, ivf_min=ivf_min)
    owners = np.repeat(np.arange(len(stored), dtype=np.int64), [len(k) for k in stored])
    index.add(
        np.concatenate([k.descriptors for k in stored]),
        owners,
        np.concatenate([k.points for k in stored]),
    )
    return index


def run(index: KeypointIndex, queries: list[Keypoints]) -> tuple[list[float], set[tuple[int, int]]]:
    times: list[float] = []
    found: set[tuple[int, int]] = set()
    for number, query in enumerate(queries):
        started = time.perf_counter()
        matches = search_keypoints(index, [query], RULES)
        times.append(time.perf_counter() - started)
        found.update((number, owner) for _, owner in matches)
    return times, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    rows_bytes, query_bytes = corpus(args.images, args.queries)
    with Pool(args.workers) as pool:
        stored = pool.map(partial(dataset_points, options=OPTIONS), rows_bytes, 64)
        queries = pool.map(partial(query_points, options=OPTIONS), query_bytes, 8)
    stored = shuffled(stored[: args.images - args.queries]) + stored[args.images - args.queries :]
    planted = {(q, args.images - args.queries + q) for q in range(args.queries)}
    descriptors = sum(len(k) for k in stored)
    table: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="keypoints-") as home:
        exact_index = build(Path(home) / "flat", stored, ivf_min=1 << 62)
        exact_times, exact = run(exact_index, queries)
        base = percentiles(exact_times)
        table.append({"index": "exact (IndexBinaryFlat)", **base, "vs_exact": 1.0,
                      "planted_found": len(planted & exact) / len(planted),
                      "of_exact_matches": 1.0})  # fmt: skip
        ivf = build(Path(home) / "ivf", stored, ivf_min=1)
        for nprobe in (64, 16, 4):
            ivf.nprobe = nprobe
            times, found = run(ivf, queries)
            stats = percentiles(times)
            table.append({"index": f"IVF, nprobe {nprobe}", **stats,
                          "vs_exact": base["p50_ms"] / stats["p50_ms"],
                          "planted_found": len(planted & found) / len(planted),
                          "of_exact_matches": len(found & exact) / max(1, len(exact))})  # fmt: skip
    meta = {
        "load_avg_1m_at_start": os.getloadavg()[0],
        "images": args.images,
        "queries": args.queries,
        "stored_points": descriptors,
        "index_bytes_per_point": 44,
        "index_mb": round(descriptors * 44 / 1e6, 1),
        "exact_matches": len(exact),
    }
    emit("keypoint_search", f"Keypoint look-up + verification, {args.images:,} images", table, meta)


if __name__ == "__main__":
    main()
