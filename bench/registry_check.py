"""Issue 5 benchmark: one bulk check of 10,000 URLs against 1M claims (target p50 <= 200 ms).

Claims (default 1,000,000): 80 % exact URLs on 50k hosts, 15 % domains (subdomains
included), 5 % URL prefixes, half verified. Each check call holds 10,000 URLs: 20 % claimed
URLs (other scheme/case spelling), 10 % under claimed domains, 5 % under prefixes, 65 %
unclaimed. Measured in one process: building the decision index and its URL key table
(``prepare``), ``DecisionIndex.check`` per call (what ``POST /api/registry/check`` runs),
and as baseline a DuckDB hash join of the same
10k URLs against the same claims on exact URL key and exact host only (less work than the
index does: no parent domains, no prefixes, no canonicalisation).

    python bench/registry_check.py [--claims 1000000] [--calls 30]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import duckdb
import pyarrow as pa

from _common import emit, percentiles
from traindex.registry.decisions import ClaimRecord, DecisionIndex


def claims(n: int) -> list[ClaimRecord]:
    out = []
    for i in range(n):
        share = i % 20
        if share < 16:
            kind, value = "url", f"https://img{i % 7}.site{i % 50_000}.com/p/{i}.jpg"
        elif share < 19:
            kind, value = "domain", f"claimed{i}.org"
        else:
            kind, value = "url_prefix", f"https://cdn.site{i % 50_000}.net/user{i}/"
        status = "verified" if i % 2 else "unverified"
        out.append(
            ClaimRecord(
                f"c{i:08d}", kind, value, True, None, None, None, "do_not_train", status, None
            )
        )
    return out


def queries(rng: random.Random, n_claims: int, n: int) -> list[str]:
    out = []
    for _ in range(n):
        i = rng.randrange(n_claims)
        roll = rng.random()
        if roll < 0.20:
            i -= i % 20
            out.append(f"HTTP://IMG{i % 7}.Site{i % 50_000}.com/p/{i}.jpg")
        elif roll < 0.30:
            i = i - i % 20 + 16
            out.append(f"https://www.claimed{i}.org/photo/{rng.randrange(10**6)}.jpg")
        elif roll < 0.35:
            i = i - i % 20 + 19
            out.append(f"https://cdn.site{i % 50_000}.net/user{i}/a/{rng.randrange(999)}.png")
        else:
            out.append(
                f"https://www.shop{rng.randrange(10**6)}.com/item/{rng.randrange(10**9)}.jpg"
            )
    return out


def duckdb_baseline(records: list[ClaimRecord], batches: list[list[str]]) -> list[float]:
    con = duckdb.connect()
    urls = [r.value.split(":", 1)[1] for r in records if r.kind == "url"]
    doms = [r.value for r in records if r.kind == "domain"]
    con.register("url_claims", pa.table({"k": urls}))
    con.register("dom_claims", pa.table({"d": doms}))
    con.execute("CREATE TABLE u AS SELECT DISTINCT k FROM url_claims")
    con.execute("CREATE TABLE d AS SELECT DISTINCT d FROM dom_claims")
    times = []
    for batch in batches:
        started = time.perf_counter()
        con.register("q", pa.table({"url": batch}))
        con.execute(
            "SELECT count(*) FROM (SELECT lower(url) AS url, "
            "lower(regexp_extract(url, '^[A-Za-z]+://([^/:?#]+)', 1)) AS host FROM q) q "
            "LEFT JOIN u ON u.k = substr(q.url, strpos(q.url, ':') + 1) "
            "LEFT JOIN d ON d.d = q.host WHERE u.k IS NOT NULL OR d.d IS NOT NULL"
        ).fetchall()
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--claims", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--items", type=int, default=10_000)
    args = parser.parse_args()
    rng = random.Random(5)
    records = claims(args.claims)
    started = time.perf_counter()
    index = DecisionIndex()
    for record in records:
        index.apply(record)
    build_s = time.perf_counter() - started
    batches = [queries(rng, args.claims, args.items) for _ in range(args.calls)]
    now = datetime.now(UTC)
    # The URL key table is otherwise built by the first check: timed on its own.
    started = time.perf_counter()
    index.prepare()
    prepare_s = time.perf_counter() - started
    times, cpu, matched = [], [], 0
    for batch in batches:
        started, cpu_started = time.perf_counter(), time.process_time()
        decisions = index.check(batch, count_unverified=True, now=now)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
        matched += sum(d.decision != "unknown" for d in decisions)
    ours = percentiles(times)
    base = percentiles(duckdb_baseline(records, batches))
    rows = [
        {
            "measure": f"check {args.items:,} URLs vs {args.claims:,} claims",
            "p50_ms": ours["p50_ms"],
            "p95_ms": ours["p95_ms"],
            "cpu_p50_ms": percentiles(cpu)["p50_ms"],
            "baseline_p50_ms": base["p50_ms"],
            "ratio": base["p50_ms"] / ours["p50_ms"],
            "target": "p50 <= 200 ms",
        },
        {
            "measure": "index build (ms, one-off)",
            "p50_ms": build_s * 1000,
            "p95_ms": "",
            "baseline_p50_ms": "",
            "ratio": "",
            "target": "",
        },
        {
            "measure": "URL key table build (ms, one-off, else in the first check)",
            "p50_ms": prepare_s * 1000,
            "p95_ms": "",
            "baseline_p50_ms": "",
            "ratio": "",
            "target": "",
        },
    ]
    meta = {
        "load_average": os.getloadavg(),
        "claims": args.claims,
        "calls": args.calls,
        "items": args.items,
        "matched_share": matched / (args.calls * args.items),
        "baseline": "DuckDB hash join on exact URL key and exact host (less work)",
    }
    emit("registry_check", "Registry bulk check", rows, meta)


if __name__ == "__main__":
    main()
