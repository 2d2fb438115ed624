"""``traindex fingerprint``: fingerprint a release's images, then index them.

Builds one ``ShardTask`` per catalog shard, hands them to a distributor (local processes
or Ray; both run ``stages.fingerprint_shard``), and adds the finished shards to the
release's PDQ and SHA-256 indexes. Shards already fingerprinted are skipped, so a re-run
resumes; bad images are recorded per image and never stop the job.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from traindex.catalog.manifest import Manifest
from traindex.catalog.store import Catalog, Release
from traindex.config import Settings
from traindex.fingerprint.catalog_index import index_fingerprints
from traindex.fingerprint.locate import FolderImages
from traindex.jobs.local import run_local
from traindex.jobs.stages import ShardResult, ShardTask

__all__ = ["Distributor", "FingerprintReport", "fingerprint"]

Distributor = Literal["local", "ray"]


@dataclass
class FingerprintReport:
    """What one release's fingerprint run did."""

    dataset: str
    release: str
    shards: int
    shards_skipped: int
    images: int
    errors: int
    hashes_indexed: int
    seconds: float


def _tasks(release: Release, manifest: Manifest, folder: FolderImages | None) -> list[ShardTask]:
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


def fingerprint(
    settings: Settings,
    dataset: str,
    *,
    images: Path | None = None,
    distributor: Distributor = "local",
    workers: int = 2,
    on_done: Callable[[ShardResult], None] = lambda result: None,
) -> list[FingerprintReport]:
    """Fingerprint every release of ``dataset`` (``NAME`` or ``NAME/RELEASE``)."""
    folder = FolderImages(images) if images is not None else None
    reports = []
    for release, manifest in Catalog(settings).select(dataset):
        started = time.perf_counter()
        tasks = _tasks(release, manifest, folder)
        if distributor == "ray":
            from traindex.jobs.ray import run_ray

            results = run_ray(tasks, on_done, num_cpus=workers)
        else:
            results = run_local(tasks, workers, on_done)
        added = index_fingerprints(release)
        reports.append(
            FingerprintReport(
                dataset=manifest.name,
                release=manifest.release,
                shards=len(tasks),
                shards_skipped=sum(r.skipped for r in results),
                images=sum(r.images for r in results),
                errors=sum(r.errors for r in results),
                hashes_indexed=added,
                seconds=time.perf_counter() - started,
            )
        )
    return reports
