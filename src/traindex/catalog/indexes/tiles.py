"""The per-release region index the near-copy check searches besides the PDQ index.

``<release>/nearcopy/tiles/`` is a ``MultiIndexHashIndex`` of every training image's 12
region hashes (``nearcopy.tiles``), ids ``loc << 4 | region``; flat regions (PDQ quality
below the floor) are not stored. Like the fingerprint job, it is built in two steps: the
stage ``jobs.tiles.tile_shard`` hashes one catalog shard's images (through the fingerprint
job's image stream) into ``nearcopy/<shard>.parquet``, run by either distributor (local
processes or Ray); then this module adds the written tables to the index in shard order.
``nearcopy/indexed.json`` lists the shards added, so a re-run resumes and a crash re-adds
at most one shard (search de-duplicates ids). Without the index the check still runs on
whole-image hashes and says that regions were not searched.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from traindex.catalog.locations import loc_of
from traindex.catalog.store import Catalog, Release
from traindex.config import Settings
from traindex.fingerprint.locate import FolderImages
from traindex.index.binary import MultiIndexHashIndex
from traindex.jobs.distribute import Distributor, distribute, shard_tasks
from traindex.jobs.fingerprint import FingerprintReport
from traindex.jobs.ray import RayOptions
from traindex.jobs.tiles import STAGE, tile_shard
from traindex.nearcopy.tiles import pack_region_id

__all__ = ["REGION_INDEX_DIR", "index_tiles", "open_tiles"]

REGION_INDEX_DIR = f"{STAGE}/tiles"
"""Where a release keeps its region index."""


def open_tiles(release: Release) -> MultiIndexHashIndex | None:
    """The release's region index (memory-mapped), or ``None`` if never built."""
    folder = release.dir / REGION_INDEX_DIR
    return MultiIndexHashIndex(folder) if (folder / "manifest.json").exists() else None


def _add_table(release: Release, index: MultiIndexHashIndex, shard_id: int) -> int:
    """Add one shard's region table to the index; the number of region hashes added."""
    table = pq.read_table(release.stage_table(STAGE, shard_id), columns=["row", "regions"])
    hashes: list[bytes] = []
    ids: list[int] = []
    for row, regions in zip(
        table.column("row").to_pylist(), table.column("regions").to_pylist(), strict=True
    ):
        for number, digest in enumerate(regions or ()):
            if digest is not None:  # a flat region proves nothing: never stored
                hashes.append(digest)
                ids.append(pack_region_id(loc_of(shard_id, row), number))
    if hashes:
        index.add(hashes, np.asarray(ids, dtype=np.int64))
    return len(hashes)


def _commit(release: Release) -> int:
    """Add every written, not yet indexed region table, in shard order (so the index is
    the same whichever distributor ran the tasks); the region hashes added."""
    done = release.indexed(STAGE)
    index = MultiIndexHashIndex(release.dir / REGION_INDEX_DIR)
    added = 0
    for shard_id in release.stage_tables(STAGE):
        if shard_id not in done:
            added += _add_table(release, index, shard_id)
            done.append(shard_id)
            release.mark_indexed(STAGE, done)
    return added


def index_tiles(
    settings: Settings,
    dataset: str,
    *,
    images: Path | None = None,
    on_shard: Callable[[int], None] = lambda images: None,
    distributor: Distributor = "local",
    workers: int = 1,
    ray: RayOptions | None = None,
) -> list[FingerprintReport]:
    """Build or extend the region index of every release of ``dataset`` (the report is
    the fingerprint job's; ``hashes_indexed`` counts region hashes).

    ``images`` names the image folder for releases that do not carry their images (as for
    ``traindex fingerprint --images``); ``on_shard`` gets each finished shard's image count.
    The shards' regions are hashed by ``distributor`` (``workers`` local processes, or Ray
    where ``ray`` says), then added to the index here.
    """
    folder = FolderImages(images) if images is not None else None
    reports = []
    for release, manifest in Catalog(settings).select(dataset):
        started = time.perf_counter()
        done = set(release.indexed(STAGE))
        tasks = [t for t in shard_tasks(release, manifest, folder) if t.shard_id not in done]
        results = distribute(
            tasks, tile_shard, distributor=distributor, workers=workers, ray=ray,
            on_done=lambda result: on_shard(result.images),
        )  # fmt: skip
        added = _commit(release)
        reports.append(
            FingerprintReport(
                dataset=manifest.name,
                release=manifest.release,
                shards=len(manifest.sources),
                shards_skipped=len(manifest.sources) - len(tasks),
                images=sum(r.images for r in results),
                errors=sum(r.errors for r in results),
                hashes_indexed=added,
                seconds=time.perf_counter() - started,
            )
        )
    return reports
