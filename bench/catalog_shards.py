"""Issue 20 benchmark: catalog lookups when a release has ~1,000 source files (shards).

LAION-5B's metadata is ~1,000 Parquet files, so one release has ~1,000 shards and an
exact-URL lookup probes ~1,000 sorted key arrays unless a merged key index exists. This
generates ``--shards`` LAION-like files of ``--rows-per-shard`` rows, ingests them as one
release, then times exact-URL, domain and caption-text searches (p50/p95, through the
same ``SearchService`` the CLI and web app use) with per-shard key arrays, then after
compaction into one merged key index, against a DuckDB scan of the same catalog Parquet
files, in one run.

    python bench/catalog_shards.py [--shards 1000] [--rows-per-shard 2000] [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, run_child
from ingest_lookup import _queries, _time_scan, _time_service
from laion_like import generate


def stage_ingest(data: Path, home: Path) -> None:
    from traindex.config import Settings
    from traindex.ingest.pipeline import ingest

    report = ingest(Settings(home=home), data, dataset="laion-like", release="bench", fmt="laion")
    print(json.dumps({"rows": report.rows, "shards": report.sources_ingested}))


def stage_query(data: Path, home: Path, n: int, scans: int) -> None:
    """Per-shard probes first (merged arrays removed), then compaction, then merged."""
    from traindex.catalog.merged_keys import compact_keys
    from traindex.catalog.store import Catalog
    from traindex.config import Settings

    [(release, manifest)] = Catalog(Settings(home=home)).select("laion-like")
    for stale in release.keys_dir.glob("*/merged*"):
        stale.unlink()
    queries = _queries(data, n)
    _time_service(home, queries)  # warm-up: both timed passes then read warm row groups
    per_shard = _time_service(home, queries)
    started = time.perf_counter()
    keys = compact_keys(release.keys_dir, [s.id for s in manifest.sources])
    compaction_s = time.perf_counter() - started
    _time_service(home, queries)  # warm-up: the merged arrays' pages, as for per-shard
    merged = _time_service(home, queries)
    scan = _time_scan(home, queries, scans)
    print(json.dumps({"per_shard": per_shard, "merged": merged, "duckdb_scan": scan,
                      "compaction_s": compaction_s, "keys_merged": keys}))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shards", type=int, default=1_000)
    parser.add_argument("--rows-per-shard", type=int, default=2_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/traindex-bench-shards"))
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--scan-queries",
        type=int,
        default=10,
        help="DuckDB scans per kind (minutes each at 200 M rows)",
    )
    parser.add_argument("--stage", choices=["ingest", "query"])
    args = parser.parse_args()
    rows = args.shards * args.rows_per_shard
    data = args.work / f"laion-like-{args.shards}x{args.rows_per_shard}"
    home = args.work / f"home-{args.shards}x{args.rows_per_shard}"
    if args.stage == "ingest":
        return stage_ingest(data, home)
    if args.stage == "query":
        return stage_query(data, home, args.queries, args.scan_queries)
    started = time.perf_counter()
    generate(data, rows, per_file=args.rows_per_shard)
    generate_s = time.perf_counter() - started
    me = [__file__, "--shards", str(args.shards), "--rows-per-shard", str(args.rows_per_shard)]
    me += ["--work", str(args.work)]
    # resumes: files already ingested are skipped (then ingest_s covers the rest only)
    ingest_s, ingested = run_child([*me, "--stage", "ingest"])
    query = [
        "--stage",
        "query",
        "--queries",
        str(args.queries),
        "--scan-queries",
        str(args.scan_queries),
    ]
    _, out = run_child([*me, *query])
    lat = json.loads(out)
    table = []
    for kind in ("url", "domain", "text"):
        for pct in ("p50_ms", "p95_ms"):
            scan = lat["duckdb_scan"][kind][pct]
            table.append(
                {
                    "lookup": f"{kind} {pct[:3]} ms",
                    "per-shard keys": lat["per_shard"][kind][pct],
                    "merged keys": lat["merged"][kind][pct],
                    "duckdb scan": scan,
                    "scan / merged": scan / lat["merged"][kind][pct],
                }
            )
    emit(
        "catalog_shards",
        f"Lookups over {args.shards:,} shards x {args.rows_per_shard:,} rows ({rows:,} rows)",
        table,
        {
            "shards": args.shards,
            "rows_per_shard": args.rows_per_shard,
            "generate_s": generate_s,
            "ingest_s": ingest_s,
            "ingested": json.loads(ingested),
            "latencies": lat,
        },
    )


if __name__ == "__main__":
    main()
