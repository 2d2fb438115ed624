"""Ingest on Ray: one task per source file, one commit by the driver.

Each task writes its source file as a staged shard under ``.tmp/staged/<id>/`` (Parquet,
sorted key arrays, rejected rows) and touches nothing else. When every task has
finished, the driver indexes the staged captions (the release has one Tantivy index and
one writer), moves the staged files into place and lists all the new shards in the
manifest in one atomic write. A task that fails (after Ray's retries, e.g. its node was
lost) stops the run before that write, so the catalog stays as it was; the re-run stages
the same shard ids again (they come from the unchanged manifest) and completes.

Shard ids, rows, key arrays and caption documents are those a local run writes: the
same writer code runs in the task, and ids are given in source order before submitting.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.parquet as pq

from traindex.catalog.manifest import Manifest, SourceEntry, utc_now
from traindex.catalog.store import Release
from traindex.catalog.textworker import TextIndexer
from traindex.ingest.base import SourceFile
from traindex.ingest.shards import IngestListener, SourcePlan
from traindex.jobs.ray import RayOptions, run_ray

__all__ = ["ingest_on_ray", "stage_source"]


def staged_dir(release: Release, shard_id: int) -> Path:
    return release.tmp_dir / "staged" / f"{shard_id:05d}"


def stage_source(task: tuple[SourcePlan, SourceFile, int]) -> SourceEntry:
    """The Ray task: stage one source file as one shard."""
    plan, source, shard_id = task
    return plan.stage(source, shard_id, staged_dir(Release(plan.release_dir), shard_id))


def ingest_on_ray(
    plan: SourcePlan,
    manifest: Manifest,
    todo: list[SourceFile],
    options: RayOptions,
    listener: IngestListener,
) -> list[SourceEntry]:
    """Stage ``todo`` on Ray, then commit every shard at once; the committed entries."""
    first = manifest.next_id()
    tasks = [(plan, source, first + i) for i, source in enumerate(todo)]
    by_id = {first + i: source for i, source in enumerate(todo)}

    def staged(entry: SourceEntry) -> None:
        listener.on_rows(entry.rows)
        listener.on_source(by_id[entry.id], "staged")

    entries = sorted(run_ray(tasks, staged, stage=stage_source, options=options), key=_id)
    release = Release(plan.release_dir)
    with TextIndexer(release.text_dir, plan.settings.index_heap_bytes) as text:
        for entry in entries:
            _place(release, entry.id, text, plan.settings.batch_rows)
    manifest.sources.extend(entries)
    manifest.updated_at = utc_now()
    manifest.save(release.manifest_path)
    shutil.rmtree(release.tmp_dir / "staged", ignore_errors=True)
    return entries


def _id(entry: SourceEntry) -> int:
    return entry.id


def _place(release: Release, shard_id: int, text: TextIndexer, batch_rows: int) -> None:
    """Index a staged shard's captions, then move its files into the release (still
    unlisted: searches read only shards the manifest names)."""
    work = staged_dir(release, shard_id)
    _index_captions(text, work / "shard.parquet", shard_id, batch_rows)
    for array in sorted((work / "keys").glob("*/*.npy")):
        target = release.keys_dir / array.parent.name / array.name
        target.parent.mkdir(parents=True, exist_ok=True)
        array.replace(target)
    if (work / "rejected.parquet").is_file():
        release.rejected_dir.mkdir(exist_ok=True)
        (work / "rejected.parquet").replace(release.rejected_dir / f"{shard_id:05d}.parquet")
    (work / "shard.parquet").replace(release.shard_path(shard_id))


def _index_captions(text: TextIndexer, shard: Path, shard_id: int, batch_rows: int) -> None:
    text.begin(shard_id)
    try:
        first_row = 0
        for batch in pq.ParquetFile(shard).iter_batches(batch_rows, columns=["caption"]):
            text.add(shard_id, first_row, batch.column(0))
            first_row += batch.num_rows
        text.commit()
    except BaseException:
        text.rollback()
        raise
