"""Issue 21 measurement: how fast is search by ISCC over a release's codes?

``traindex search --iscc`` compares a query's 64-bit Image-Code body with every row's by one
numpy Hamming scan (``search.iscc.IsccCodes.within``). Baseline in the same run: the
per-pair rule as a Python loop over the same codes (``fingerprint.iscc.iscc_distance``,
``iscc_core``'s own rule). Also timed: reading the release's ISCC tables into the scan's
array (``IsccCodes.read``, once per release view). Codes are random (a real release's
distances do not change the cost of an exact scan); a few planted near codes check that
both find the same rows.

    python bench/iscc_search.py [--rows 1000000] [--queries 20]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from _common import emit
from traindex.catalog.store import Release
from traindex.fingerprint.iscc import DEFAULT_ISCC_RADIUS, iscc_distance
from traindex.jobs.iscc import ISCC_SCHEMA
from traindex.search.iscc import IsccCodes


def _write_release(folder: Path, bodies: list[str], shards: int) -> Release:
    release = Release(folder)
    per = -(-len(bodies) // shards)
    for shard in range(shards):
        part = bodies[shard * per : (shard + 1) * per]
        table = pa.table(
            {"row": list(range(len(part))), "key": [None] * len(part),
             "image": [None] * len(part), "iscc": part, "error": [None] * len(part)},
            schema=ISCC_SCHEMA,
        )  # fmt: skip
        out = release.stage_table("iscc", shard)
        out.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, out)
    return release


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--shards", type=int, default=8)
    args = parser.parse_args()
    rng = random.Random(21)
    bodies = [f"{rng.getrandbits(64):016x}" for _ in range(args.rows)]
    queries = [bodies[rng.randrange(args.rows)] for _ in range(args.queries)]
    for i, query in enumerate(queries):  # a near copy of each query, 3 bits away
        bodies[(i * 7919) % args.rows] = f"{int(query, 16) ^ 0b10101:016x}"
    with tempfile.TemporaryDirectory() as tmp:
        release = _write_release(Path(tmp) / "release", bodies, args.shards)
        started = time.perf_counter()
        codes = IsccCodes.read(release)
        read_s = time.perf_counter() - started
    started = time.perf_counter()
    fast = [codes.within(q, DEFAULT_ISCC_RADIUS)[0].tolist() for q in queries]
    scan_s = (time.perf_counter() - started) / len(queries)
    order = [codes.body(i) for i in range(len(bodies))]  # the scan's row order
    started = time.perf_counter()
    slow = [
        [i for i, b in enumerate(order) if iscc_distance(q, b) <= DEFAULT_ISCC_RADIUS]
        for q in queries[:3]
    ]
    loop_s = (time.perf_counter() - started) / 3
    assert fast[:3] == slow, "the scan and the per-pair rule disagree"
    rows = [
        {"method": "numpy scan (search --iscc)", "rows": args.rows,
         "ms per query": scan_s * 1000, "x baseline": loop_s / scan_s},
        {"method": "Python loop of iscc_distance (baseline)", "rows": args.rows,
         "ms per query": loop_s * 1000, "x baseline": 1.0},
        {"method": "read ISCC tables (once per release view)", "rows": args.rows,
         "ms per query": read_s * 1000},
    ]  # fmt: skip
    meta = {"rows": args.rows, "queries": args.queries, "shards": args.shards,
            "radius": DEFAULT_ISCC_RADIUS, "matches_per_query": [len(f) for f in fast]}  # fmt: skip
    emit("iscc_search", "Search by ISCC: one query against a release's codes", rows, meta)


if __name__ == "__main__":
    main()
