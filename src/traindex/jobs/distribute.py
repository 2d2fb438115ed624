"""Which distributor runs a job's shard tasks, and the tasks of a release's shards.

Every per-shard job (fingerprint and its stages, the near-copy region index) builds one
``ShardTask`` per catalog shard and hands them to ``distribute``: local processes
(``local.run_local``) or Ray (``ray.run_ray``). The job decides nothing else about where
a shard runs, and both distributors run the same stage function, so their outputs agree.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal, TypeVar

from traindex.catalog.manifest import Manifest
from traindex.catalog.store import Release
from traindex.fingerprint.locate import FolderImages
from traindex.jobs.local import run_local
from traindex.jobs.ray import RayOptions, run_ray
from traindex.jobs.stages import ShardResult, ShardTask

__all__ = ["Distributor", "distribute", "shard_tasks"]

Distributor = Literal["local", "ray"]
Task = TypeVar("Task")


def shard_tasks(
    release: Release, manifest: Manifest, folder: FolderImages | None
) -> list[ShardTask]:
    """One task per catalog shard of ``release``, in shard order."""
    root = Path(manifest.root)
    return [
        ShardTask(
            release_dir=release.dir,
            shard_id=s.id,
            format=manifest.format,
            source=root if root.is_file() else root / s.relpath,
            folder=folder,
        )
        for s in manifest.sources
    ]


def distribute(
    tasks: list[Task],
    stage: Callable[[Task], ShardResult],
    *,
    distributor: Distributor,
    workers: int,
    on_done: Callable[[ShardResult], None],
    ray: RayOptions | None,
) -> list[ShardResult]:
    """Run ``stage`` over ``tasks`` on local processes or on Ray (``ray``: where; default a
    local Ray runtime with ``workers`` CPUs)."""
    if distributor == "ray":
        options = ray or RayOptions(num_cpus=workers)
        return run_ray(tasks, on_done, stage=stage, options=options)
    return run_local(tasks, workers, on_done, stage=stage)
