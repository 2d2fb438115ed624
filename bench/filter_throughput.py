"""Issue 5 benchmark: ``traindex filter`` rows/s against 1M claims vs plain pyarrow read+write.

Data: LAION-like parquet from ``laion_like.py`` (default 2,000,000 rows in files of 1M,
scaled down from the issue's 10M to fit a shared 2-core machine; pass ``--rows 10000000``
for the full size). Claims (default 1,000,000): exact URLs taken from every 50th row of the
data (so ~2 % of rows are claimed) plus synthetic URLs, and up to 2,000 long-tail domains
of the data. Stages, each timed on the same files: baseline = pyarrow read + write with the same
compression (snappy); filter = ``filter_inputs`` with an in-memory decision index (as for
``--registry SNAPSHOT``; built, with its URL key table, before timing). Wall and
CPU time (``process_time``: the machine is shared, CPU ratios are steadier). Target:
filter >= 0.5x the baseline's rows/s.

    python bench/filter_throughput.py [--rows 2000000] [--claims 1000000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pyarrow.parquet as pq

from _common import emit
from laion_like import generate
from traindex.core.urls import registrable_domain, url_parts
from traindex.filtering.deciders import IndexDecider
from traindex.filtering.run import FilterOptions, filter_inputs
from traindex.registry.decisions import ClaimRecord, DecisionIndex


def baseline(files: list[Path], out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    rows = 0
    for path in files:
        pf = pq.ParquetFile(path)
        with pq.ParquetWriter(out / path.name, pf.schema_arrow, compression="snappy") as writer:
            for batch in pf.iter_batches(batch_size=65_536):
                writer.write_batch(batch)
                rows += batch.num_rows
    return rows


def build_index(files: list[Path], n_claims: int) -> DecisionIndex:
    urls = pq.read_table(files[0], columns=["URL"]).column("URL").to_pylist()
    index = DecisionIndex()
    taken = urls[::50][:n_claims]
    # 2,000 domains from the long tail (seen once in a 2,000-row sample): claiming the
    # Zipf giants would remove most rows, which is not what a registry looks like.
    seen = Counter(registrable_domain(url_parts(u).host) for u in urls[1::500])
    domains = sorted(d for d, n in seen.items() if d and n == 1)[:2_000]
    values = [("url", u) for u in taken] + [("domain", d) for d in domains]
    values += [("url", f"https://fill{i}.example/{i}.jpg") for i in range(n_claims - len(values))]
    for i, (kind, value) in enumerate(values):
        index.apply(
            ClaimRecord(
                f"c{i}", kind, value, True, None, None, None, "do_not_train", "verified", None
            )
        )
    return index


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--claims", type=int, default=1_000_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/traindex-bench-filter"))
    args = parser.parse_args()
    files = generate(args.work / "data", args.rows)
    started = time.perf_counter()
    decider = IndexDecider(build_index(files, args.claims))  # builds all its tables
    build_s = time.perf_counter() - started
    index = decider.index
    shutil.rmtree(args.work / "base", ignore_errors=True)
    started, cpu_started = time.perf_counter(), time.process_time()
    rows = baseline(files, args.work / "base")
    base_s, base_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    rows_out = [
        {
            "stage": "pyarrow read + write (baseline)",
            "rows": rows,
            "seconds": base_s,
            "rows_per_s": rows / base_s,
            "ratio": 1.0,
            "cpu_s": base_cpu,
            "cpu_ratio": 1.0,
        },
    ]
    kept = 0
    for workers in (1, 2):
        shutil.rmtree(args.work / "out", ignore_errors=True)
        started, cpu_started = time.perf_counter(), time.process_time()
        summaries = filter_inputs(
            args.work / "data",
            args.work / "out",
            decider,
            FilterOptions(f"bench-{time.time()}", log=args.work / "removed.parquet"),
            workers=workers,
        )
        filter_s, filter_cpu = time.perf_counter() - started, time.process_time() - cpu_started
        kept = sum(s.result.kept for s in summaries)
        rows_out.append(
            {
                "stage": f"traindex filter vs {len(index):,} claims, {workers} process(es)",
                "rows": rows,
                "seconds": filter_s,
                "rows_per_s": rows / filter_s,
                "ratio": base_s / filter_s,
                # this process only: forked workers' CPU is not in it
                "cpu_s": filter_cpu if workers == 1 else "",
                "cpu_ratio": base_cpu / filter_cpu if workers == 1 else "",
            }
        )
    meta = {
        "rows": rows,
        "kept": kept,
        "removed": rows - kept,
        "claims": len(index),
        "index_build_s": build_s,
        "load_average": os.getloadavg(),
        "target": "ratio >= 0.5",
    }
    emit("filter_throughput", "traindex filter throughput", rows_out, meta)


if __name__ == "__main__":
    main()
