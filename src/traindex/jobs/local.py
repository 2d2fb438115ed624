"""Run shard tasks on local processes. The distributor only decides where a shard runs.

``stage`` is the per-shard function (``stages.fingerprint_shard``, ``faces.face_shard``):
module-level, so spawned processes can import it. Workers die with this process
(``lifeline``), so a killed run leaves no worker writing shards behind it.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import TypeVar

from traindex.jobs.lifeline import Lifeline, die_with_parent
from traindex.jobs.stages import ShardResult

__all__ = ["run_local"]

Task = TypeVar("Task")


def run_local(
    tasks: Sequence[Task],
    workers: int,
    on_done: Callable[[ShardResult], None],
    *,
    stage: Callable[[Task], ShardResult],
) -> list[ShardResult]:
    """Run ``stage`` over ``tasks`` on ``workers`` processes (1 = in this process)."""
    results: list[ShardResult] = []
    if workers <= 1 or len(tasks) <= 1:
        for task in tasks:
            results.append(stage(task))
            on_done(results[-1])
        return results
    with ProcessPoolExecutor(
        workers,
        mp_context=mp.get_context("spawn"),
        initializer=die_with_parent,
        initargs=(Lifeline.here(),),
    ) as pool:
        for future in as_completed([pool.submit(stage, t) for t in tasks]):
            results.append(future.result())
            on_done(results[-1])
    return results
