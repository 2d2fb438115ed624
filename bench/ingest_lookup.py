"""Issue 2 benchmark: ingest throughput and lookup latency at 10M LAION-like rows.

In one run, on the same generated files:
- ingest (traindex, with key and caption indexes) vs a plain pyarrow read + zstd write;
  rows/s, their ratio, and each process's peak RSS;
- exact URL, domain and caption text lookups (p50/p95) vs a DuckDB full scan of the
  same catalog Parquet files.

    python bench/ingest_lookup.py [--rows 10000000] [--work /tmp/traindex-bench]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, percentiles, run_child
from laion_like import generate


def stage_baseline(data: Path, out: Path) -> None:
    import pyarrow.parquet as pq

    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    rows = 0
    for path in sorted(data.glob("*.parquet")):
        pf = pq.ParquetFile(path)
        with pq.ParquetWriter(out / path.name, pf.schema_arrow, compression="zstd") as writer:
            for batch in pf.iter_batches(batch_size=65_536):
                writer.write_batch(batch)
                rows += batch.num_rows
    print(json.dumps({"rows": rows, "peak_rss_bytes": _peak_rss()}))


def _peak_rss() -> int:
    """This process's peak RSS (VmHWM), plus that of its finished children.

    Read from /proc, not ``wait4``: after ``exec`` Linux reports the *parent's* RSS at
    fork time as the child's maximum, which would charge the data generator to ingest.
    """
    import resource

    status = Path("/proc/self/status").read_text()
    hwm_kb = int(next(ln.split()[1] for ln in status.splitlines() if ln.startswith("VmHWM")))
    children_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (hwm_kb + children_kb) * 1024


def stage_ingest(data: Path, home: Path) -> None:
    from traindex.config import Settings
    from traindex.ingest.pipeline import ingest

    shutil.rmtree(home, ignore_errors=True)
    report = ingest(Settings(home=home), data, dataset="laion-like", release="bench", fmt="laion")
    print(json.dumps({"rows": report.rows, "peak_rss_bytes": _peak_rss()}))


def _queries(data: Path, n: int) -> dict[str, list[str]]:
    import pyarrow.parquet as pq

    from traindex.core.urls import url_parts

    rng = random.Random(1)
    table = pq.read_table(sorted(data.glob("*.parquet"))[-1], columns=["URL", "TEXT"]).slice(
        0, 200_000
    )
    urls = rng.sample(table.column("URL").to_pylist(), n)
    domains = [url_parts(u).domain or "" for u in rng.sample(urls, n // 2)]
    words = rng.sample(
        sorted({w for t in table.column("TEXT").to_pylist()[:20_000] for w in t.split()}), n // 2
    )
    texts = (
        words[: n // 4]
        + ['"Robert Kneschke"', "Müller", '"Chloé Dubois"']
        + [f"{a} {b}" for a, b in zip(words[n // 4 :: 2], words[n // 4 + 1 :: 2], strict=False)]
    )
    return {"url": urls, "domain": domains, "text": texts}


def _time_service(home: Path, queries: dict[str, list[str]]) -> dict[str, dict[str, float]]:
    from traindex.catalog.store import Catalog
    from traindex.config import Settings
    from traindex.search.queries import Query
    from traindex.search.service import SearchService

    service = SearchService(Catalog(Settings(home=home)))
    timings: dict[str, dict[str, float]] = {}
    for kind, values in queries.items():
        service.search(Query(kind, values[0]), limit=20)  # type: ignore[arg-type]  # warm-up
        samples = []
        for value in values:
            started = time.perf_counter()
            service.search(Query(kind, value), limit=20)  # type: ignore[arg-type]
            samples.append(time.perf_counter() - started)
        timings[kind] = percentiles(samples)
    return timings


def _time_scan(home: Path, queries: dict[str, list[str]], n: int) -> dict[str, dict[str, float]]:
    import duckdb

    from traindex.core.urls import canonical_url

    shards = str(home / "datasets/laion-like/bench/samples/*.parquet")
    # the same answer traindex gives: the total number of matches and a first page of 20
    page = "SELECT *, count(*) OVER () AS total FROM read_parquet(?) WHERE {} LIMIT 20"
    sql = {
        "url": page.format("url = ?"),
        "domain": page.format("domain = ?"),
        "text": page.format("caption ILIKE ?"),
    }
    con = duckdb.connect()
    timings = {}
    for kind, values in queries.items():
        samples = []
        for value in values[:n]:
            arg = canonical_url(value) if kind == "url" else value
            arg = f"%{value.strip(chr(34))}%" if kind == "text" else arg
            started = time.perf_counter()
            con.execute(sql[kind], [shards, arg]).fetchall()
            samples.append(time.perf_counter() - started)
        timings[kind] = percentiles(samples)
    return timings


def stage_query(data: Path, home: Path, n: int) -> None:
    queries = _queries(data, n)
    print(
        json.dumps(
            {"traindex": _time_service(home, queries), "duckdb_scan": _time_scan(home, queries, 10)}
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/traindex-bench"))
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--stage", choices=["baseline", "ingest", "query"])
    args = parser.parse_args()
    data, home = args.work / f"laion-like-{args.rows}", args.work / "home"
    if args.stage == "baseline":
        return stage_baseline(data, args.work / "baseline")
    if args.stage == "ingest":
        return stage_ingest(data, home)
    if args.stage == "query":
        return stage_query(data, home, args.queries)
    generate(data, args.rows)
    me = [__file__, "--rows", str(args.rows), "--work", str(args.work)]
    base_s, base_out = run_child([*me, "--stage", "baseline"])
    ing_s, out = run_child([*me, "--stage", "ingest"])
    base_rss = json.loads(base_out)["peak_rss_bytes"]
    ing_rss = json.loads(out)["peak_rss_bytes"]
    _, qout = run_child([*me, "--stage", "query", "--queries", str(args.queries)])
    lat = json.loads(qout)
    rows = [
        {
            "measure": "ingest rows/s",
            "traindex": args.rows / ing_s,
            "baseline": args.rows / base_s,
            "ratio": base_s / ing_s,
            "baseline is": "pyarrow read + zstd write",
        },
        {"measure": "peak RSS MB", "traindex": ing_rss / 2**20, "baseline": base_rss / 2**20},
    ]
    for kind in ("url", "domain", "text"):
        t, s = lat["traindex"][kind], lat["duckdb_scan"][kind]
        rows.append(
            {
                "measure": f"{kind} p50 ms",
                "traindex": t["p50_ms"],
                "baseline": s["p50_ms"],
                "ratio": s["p50_ms"] / t["p50_ms"],
                "baseline is": "DuckDB scan: total + 20 rows",
            }
        )
        rows.append(
            {
                "measure": f"{kind} p95 ms",
                "traindex": t["p95_ms"],
                "baseline": s["p95_ms"],
                "ratio": s["p95_ms"] / t["p95_ms"],
                "baseline is": "DuckDB scan: total + 20 rows",
            }
        )
    emit(
        "ingest_lookup",
        f"Ingest and lookups, {args.rows:,} LAION-like rows",
        rows,
        {"rows": args.rows, "ingested_rows": json.loads(out)["rows"], "latencies": lat},
    )


if __name__ == "__main__":
    main()
