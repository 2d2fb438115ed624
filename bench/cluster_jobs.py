"""Issue 20 benchmark: ingest, fingerprint and near-copy indexing on a real two-node Ray
cluster vs locally.

In one run, on the same inputs: ``ingest`` of ``--files`` LAION-like Parquet files, and
``fingerprint`` and ``nearcopy-index`` of the img2dataset cc3m webdataset output in
../shared/data (2 shards, 18 real images), once with the local distributor and once on
a two-node Ray cluster on 127.0.0.1 (1 CPU per node, tasks spread over both). The
results are checked equal before the times are reported. On this 2-core machine the
ratio measures Ray's overhead (task scheduling, staging, the driver's commit), not a
speed-up: both nodes share the 2 cores.

    python bench/cluster_jobs.py [--files 8] [--rows-per-file 20000]
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
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration"))

from raycluster import catalog_state

from _common import emit
from laion_like import generate
from traindex.catalog.indexes.tiles import index_tiles
from traindex.config import Settings
from traindex.ingest.pipeline import ingest
from traindex.jobs.fingerprint import fingerprint
from traindex.jobs.ray import RayOptions

CC3M = Path(__file__).resolve().parents[2] / "shared/data"
CC3M_OUT = "_generated/img2dataset-1.47.0-output-cc3m-test-images/webdataset"


def _jobs(home: Path, parts: Path, shared: Path, ray: RayOptions | None) -> dict[str, float]:
    settings = Settings(home=home)
    started = time.perf_counter()
    ingest(settings, parts, dataset="laion-like", release="r", fmt="laion", ray=ray)
    ingested = time.perf_counter()
    ingest(settings, shared / CC3M_OUT, dataset="cc3m", release="main")
    started_fp = time.perf_counter()
    mode = "local" if ray is None else "ray"
    fingerprint(settings, "cc3m", distributor=mode, workers=2, ray=ray)
    started_tiles = time.perf_counter()
    index_tiles(settings, "cc3m", distributor=mode, workers=2, ray=ray)
    return {
        "ingest_s": ingested - started,
        "fingerprint_s": started_tiles - started_fp,
        "nearcopy-index_s": time.perf_counter() - started_tiles,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--rows-per-file", type=int, default=20_000)
    parser.add_argument("--shared", type=Path, default=CC3M)
    args = parser.parse_args()
    import ray
    from ray.cluster_utils import Cluster

    work = Path(tempfile.mkdtemp(prefix="traindex-cluster-jobs-"))
    parts = work / "parts"
    generate(parts, args.files * args.rows_per_file, per_file=args.rows_per_file)
    local = _jobs(work / "local", parts, args.shared, None)
    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 1, "include_dashboard": False, "object_store_memory": 2**27},
    )
    try:
        cluster.add_node(num_cpus=1, object_store_memory=2**27)
        cluster.wait_for_nodes(timeout=120)
        on_ray = _jobs(work / "ray", parts, args.shared, RayOptions(address=cluster.address))
    finally:
        ray.shutdown()
        cluster.shutdown()
    for name in ("laion-like/r", "cc3m/main"):
        same = catalog_state(work / "local/datasets" / name) == catalog_state(
            work / "ray/datasets" / name
        )
        assert same, f"{name}: the cluster run differs from the local run"
    rows = [
        {"job": job, "local s": local[f"{job}_s"], "two-node Ray s": on_ray[f"{job}_s"],
         "ray / local": on_ray[f"{job}_s"] / local[f"{job}_s"]}
        for job in ("ingest", "fingerprint", "nearcopy-index")
    ]  # fmt: skip
    emit(
        "cluster_jobs",
        f"Two-node Ray cluster vs local: ingest {args.files} x {args.rows_per_file:,} rows, "
        "fingerprint and region-index 18 images",
        rows,
        {**vars(args), "shared": str(args.shared), "local": local, "ray": on_ray},
    )


if __name__ == "__main__":
    main()
