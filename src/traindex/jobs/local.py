"""Run shard tasks on local processes. The distributor only decides where a shard runs."""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed

from traindex.jobs.stages import ShardResult, ShardTask, fingerprint_shard

__all__ = ["run_local"]


def run_local(
    tasks: Sequence[ShardTask], workers: int, on_done: Callable[[ShardResult], None]
) -> list[ShardResult]:
    """Fingerprint ``tasks`` on ``workers`` processes (1 = in this process)."""
    results: list[ShardResult] = []
    if workers <= 1 or len(tasks) <= 1:
        for task in tasks:
            results.append(fingerprint_shard(task))
            on_done(results[-1])
        return results
    with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
        for future in as_completed([pool.submit(fingerprint_shard, t) for t in tasks]):
            results.append(future.result())
            on_done(results[-1])
    return results
