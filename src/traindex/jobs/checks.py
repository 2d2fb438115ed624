"""Bulk ``traindex check --urls`` on Ray: the targets split into tasks by host.

Each task checks its targets with the same service as a local run (``signals.service.
run_checks``: one fetcher, its site-file cache and per-host limits), so a task's verdicts
are what the local run would say of those targets. The split keeps every URL of one host
(``host:port``) in one task: robots.txt, ai.txt and the TDMRep file are then fetched once
per host, as locally, and the per-host concurrency limit holds across the cluster, not per
task. Hosts are packed into tasks of about ``chunk`` targets (a host with more URLs gets a
task of its own); local files, which need no politeness, are cut into tasks of ``chunk``.
The driver puts the verdicts back in input order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from traindex.config import Settings
from traindex.jobs.ray import RayOptions, iter_ray
from traindex.signals.service import is_url, run_checks, trust_anchors
from traindex.signals.verdict import TargetVerdict

__all__ = ["CheckTask", "check_on_ray", "check_tasks"]

DEFAULT_CHUNK = 256


@dataclass(frozen=True, slots=True)
class CheckTask:
    """Targets checked by one task, with their positions in the input."""

    positions: tuple[int, ...]
    targets: tuple[str, ...]


def _host(target: str) -> str | None:
    """The origin's ``host:port`` that politeness counts per; ``None`` for a local file."""
    if not is_url(target):
        return None
    try:
        return urlsplit(target).netloc.lower()
    except ValueError:  # malformed: the task's checker reports it as a row
        return target


def check_tasks(targets: Sequence[str], chunk: int = DEFAULT_CHUNK) -> list[CheckTask]:
    """Group ``targets`` by host (first-seen order), pack groups into tasks of ~``chunk``."""
    groups: dict[str | None, list[int]] = {}
    for position, target in enumerate(targets):
        groups.setdefault(_host(target), []).append(position)
    files = groups.pop(None, [])
    packed: list[list[int]] = [files[i : i + chunk] for i in range(0, len(files), chunk)]
    current: list[int] = []
    for positions in groups.values():
        if current and len(current) + len(positions) > chunk:
            packed.append(current)
            current = []
        current = current + positions
    if current:
        packed.append(current)
    return [CheckTask(tuple(p), tuple(targets[i] for i in p)) for p in packed]


def _check_task(
    task: CheckTask, settings: Settings, agents: tuple[str, ...], noindex_reserves: bool
) -> tuple[tuple[int, ...], list[TargetVerdict]]:
    verdicts = run_checks(task.targets, settings, agents, noindex_reserves=noindex_reserves)
    return task.positions, verdicts


def check_on_ray(
    targets: Sequence[str],
    settings: Settings,
    agents: tuple[str, ...],
    options: RayOptions,
    *,
    noindex_reserves: bool = False,
    progress: Callable[[TargetVerdict], None] | None = None,
    chunk: int = DEFAULT_CHUNK,
) -> list[TargetVerdict]:
    """``run_checks`` of every target, run as Ray tasks (see module docstring); input order."""
    trust_anchors(settings)  # a bad trust-anchor path is the user's error, said before any task
    results: list[TargetVerdict | None] = [None] * len(targets)
    context = (settings, agents, noindex_reserves)
    for positions, verdicts in iter_ray(
        check_tasks(targets, chunk), stage=_check_task, options=options, context=context
    ):
        for position, verdict in zip(positions, verdicts, strict=True):
            results[position] = verdict
            if progress is not None:
                progress(verdict)
    return [r for r in results if r is not None]
