"""Run shard tasks on Ray (Ray Data over the same stage function as local runs).

Ray is optional (``pip install traindex[ray]``); without an address it starts a local
Ray runtime, which is how the tests exercise this path. With ``address`` it joins a
cluster whose workers can read the release folder (shared filesystem or object store).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, TypeVar

from traindex.errors import TraindexError
from traindex.jobs.stages import ShardResult

__all__ = ["run_ray"]

Task = TypeVar("Task")


def _stage(row: dict[str, Any], stage: Callable[[Any], ShardResult]) -> dict[str, Any]:
    return {"result": stage(row["task"])}


def run_ray(
    tasks: Sequence[Task],
    on_done: Callable[[ShardResult], None],
    *,
    stage: Callable[[Task], ShardResult],
    address: str | None = None,
    num_cpus: int | None = None,
) -> list[ShardResult]:
    """Run ``stage`` over ``tasks`` as a Ray Data pipeline, one shard per row."""
    try:
        import ray
    except ImportError as exc:
        raise TraindexError("--distributor ray needs Ray: pip install 'traindex[ray]'") from exc
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(
            address=address,
            num_cpus=num_cpus,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
        )
    try:
        dataset = ray.data.from_items([{"task": t} for t in tasks], override_num_blocks=len(tasks))
        results: list[ShardResult] = []
        for row in dataset.map(partial(_stage, stage=stage), num_cpus=1).iter_rows():
            results.append(row["result"])
            on_done(results[-1])
        return results
    finally:
        if started_here:
            ray.shutdown()
