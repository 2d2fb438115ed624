"""Run per-shard tasks on Ray: a running multi-node cluster, or a local Ray runtime.

Ray is optional (``pip install traindex[ray]``) and imported only here, only when a job
asks for it. With an address (``--ray-address`` or ``RAY_ADDRESS``) the job joins that
cluster and takes its resources as they are; without one it starts a local runtime sized
by ``num_cpus``. Every node must run the same traindex and see the release folder and the
source files at the same paths (a shared filesystem): tasks carry paths, not data.

Each shard is one plain Ray task (``stage(task, *context)``); at most ``window`` tasks are
in flight, so the object store holds a bounded number of (small) results whatever the
release size. Large read-only inputs (the filter's registry index) travel once, as
``context``, through the object store. A task lost with its node is retried by Ray
(``max_retries``); a task that fails anyway stops the job with the shard named, and the
caller commits nothing of that run.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import IO, Any, TypeVar

from traindex.errors import TraindexError

__all__ = ["RayOptions", "iter_ray", "ray_session", "run_ray"]

Task = TypeVar("Task")
Result = TypeVar("Result")


@dataclass(frozen=True, slots=True)
class RayOptions:
    """Where and how shard tasks run on Ray.

    ``address``: a running cluster (``host:port`` or ``auto``); ``None`` reads
    ``RAY_ADDRESS`` and, if that is unset too, starts a local runtime with ``num_cpus``
    and ``object_store_bytes``. ``resources``: custom resources every task asks for (pins
    tasks to the nodes that offer them). ``window``: tasks in flight (default: twice the
    cluster's CPUs).
    """

    address: str | None = None
    num_cpus: int | None = None
    object_store_bytes: int | None = None
    resources: Mapping[str, float] = field(default_factory=dict)
    max_retries: int = 3
    window: int | None = None

    def cluster_address(self) -> str | None:
        return self.address or os.environ.get("RAY_ADDRESS") or None


def import_ray() -> ModuleType:
    try:
        import ray
    except ImportError as exc:
        raise TraindexError("--distributor ray needs Ray: pip install 'traindex[ray]'") from exc
    return ray


@contextmanager
def ray_session(options: RayOptions) -> Iterator[ModuleType]:
    """Ray, connected for the duration of the block (an existing connection is reused)."""
    ray = import_ray()
    started_here = not ray.is_initialized()
    stdout = sys.stdout
    if started_here:
        address = options.cluster_address()
        try:
            if address is not None:
                # joining: the cluster's own sizes apply (Ray refuses num_cpus here)
                stdout = connect_ray(ray, address=address)
            else:
                stdout = connect_ray(
                    ray,
                    # "local": a new runtime, even if a cluster runs on this machine
                    address="local",
                    num_cpus=options.num_cpus,
                    object_store_memory=options.object_store_bytes,
                    include_dashboard=False,
                )
        except (ConnectionError, RuntimeError) as exc:
            raise TraindexError(f"cannot join the Ray cluster at {address}: {exc}") from None
    try:
        yield ray
    finally:
        if started_here:
            ray.shutdown()
            sys.stdout = stdout


def connect_ray(ray: ModuleType, **init: Any) -> IO[str]:
    """``ray.init(**init)`` quietly, with ``sys.stdout`` sent to stderr from then on; returns
    the stream ``sys.stdout`` was (to restore after ``ray.shutdown()``).

    Ray's driver prints cluster events ("node ... marked dead") to ``sys.stdout`` from a
    thread of its own, whatever ``log_to_driver`` says, until it shuts down; stdout carries
    a command's answer (``--json`` must parse), which the CLI prints to the stream it was
    given at start (``cli.common.answer_to``), not to whatever ``sys.stdout`` is then.
    """
    ray.init(log_to_driver=False, configure_logging=False, **init)
    stdout = sys.stdout
    sys.stdout = sys.stderr
    return stdout


def _call(stage: Callable[..., Result], task: object, *context: object) -> Result:
    return stage(task, *context)


def run_ray(
    tasks: Sequence[Task],
    on_done: Callable[[Result], None],
    *,
    stage: Callable[..., Result],
    options: RayOptions | None = None,
    context: tuple[object, ...] = (),
) -> list[Result]:
    """Run ``stage(task, *context)`` for every task on Ray; results in completion order."""
    results: list[Result] = []
    for result in iter_ray(tasks, stage=stage, options=options, context=context):
        results.append(result)
        on_done(result)
    return results


def iter_ray(
    tasks: Sequence[Task],
    *,
    stage: Callable[..., Result],
    options: RayOptions | None = None,
    context: tuple[object, ...] = (),
) -> Iterator[Result]:
    """``stage(task, *context)`` of every task, run on Ray, yielded as tasks finish."""
    if not tasks:  # nothing to run: no cluster connection either
        return
    options = options or RayOptions()
    with ray_session(options) as ray:
        remote = ray.remote(_call).options(
            num_cpus=1, resources=dict(options.resources), max_retries=options.max_retries
        )
        shared = [ray.put(c) for c in context]
        window = options.window or max(2, 2 * int(ray.cluster_resources().get("CPU", 1)))
        pending: dict[Any, int] = {}
        todo = iter(enumerate(tasks))
        try:
            while True:
                for i, task in todo:
                    pending[remote.remote(stage, task, *shared)] = i
                    if len(pending) >= window:
                        break
                if not pending:
                    return
                [ready], _ = ray.wait(list(pending), num_returns=1)
                yield _get(ray, ready, pending.pop(ready), len(tasks))
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)


def _get(ray: ModuleType, ref: Any, index: int, total: int) -> Any:
    try:
        return ray.get(ref)
    except ray.exceptions.RayError as exc:
        raise TraindexError(
            f"Ray task {index + 1} of {total} failed ({type(exc).__name__}); the job stopped "
            f"before committing, a re-run resumes: {str(exc).strip().splitlines()[-1]}"
        ) from exc
