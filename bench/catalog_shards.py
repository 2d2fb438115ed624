"""Issue 20 benchmark: catalog lookups when a release has ~1,000 source files (shards).

LAION-5B's metadata is ~1,000 Parquet files, so one release has ~1,000 shards and an
exact-URL lookup probes ~1,000 sorted key arrays unless a merged key index exists. This
generates ``--shards`` LAION-like files of ``--rows-per-shard`` rows, ingests them as one
release, then times exact-URL, domain and caption-text searches (p50/p95, through the
same ``SearchService`` the CLI and web app use) against a DuckDB scan of the same
catalog Parquet files, in one run.

    python bench/catalog_shards.py [--shards 1000] [--rows-per-shard 2000] [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
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


def stage_query(data: Path, home: Path, n: int) -> None:
    queries = _queries(data, n)
    print(
        json.dumps(
            {"traindex": _time_service(home, queries), "duckdb_scan": _time_scan(home, queries, 10)}
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shards", type=int, default=1_000)
    parser.add_argument("--rows-per-shard", type=int, default=2_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/traindex-bench-shards"))
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--stage", choices=["ingest", "query"])
    args = parser.parse_args()
    rows = args.shards * args.rows_per_shard
    data = args.work / f"laion-like-{args.shards}x{args.rows_per_shard}"
    home = args.work / f"home-{args.shards}x{args.rows_per_shard}"
    if args.stage == "ingest":
        return stage_ingest(data, home)
    if args.stage == "query":
        return stage_query(data, home, args.queries)
    generate(data, rows, per_file=args.rows_per_shard)
    me = [__file__, "--shards", str(args.shards), "--rows-per-shard", str(args.rows_per_shard)]
    me += ["--work", str(args.work)]
    if not (home / "datasets/laion-like/bench/manifest.json").is_file():
        run_child([*me, "--stage", "ingest"])
    _, out = run_child([*me, "--stage", "query", "--queries", str(args.queries)])
    lat = json.loads(out)
    table = []
    for kind in ("url", "domain", "text"):
        for pct in ("p50_ms", "p95_ms"):
            t, s = lat["traindex"][kind][pct], lat["duckdb_scan"][kind][pct]
            table.append(
                {"lookup": f"{kind} {pct[:3]} ms", "traindex": t, "duckdb scan": s, "ratio": s / t}
            )
    emit(
        "catalog_shards",
        f"Lookups over {args.shards:,} shards x {args.rows_per_shard:,} rows ({rows:,} rows)",
        table,
        {"shards": args.shards, "rows_per_shard": args.rows_per_shard, "latencies": lat},
    )


if __name__ == "__main__":
    main()
