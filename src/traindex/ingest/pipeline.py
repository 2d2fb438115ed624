"""Ingest: stream a release's source files into the catalog, one committed shard each.

Stages per source file: read (format reader) -> normalise -> write Parquet shard, key
indexes and caption index. A shard is committed by renaming its Parquet file into place
and then listing it in the manifest; until then searches ignore it, and a re-run deletes
whatever the failed attempt left and does the source again. Sources already listed are
skipped, so an interrupted ingest resumes where it stopped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

from traindex.catalog.manifest import Manifest, SourceEntry, utc_now
from traindex.catalog.merged_keys import COMPACT_AFTER_SHARDS, compact_keys
from traindex.catalog.store import Catalog, Release
from traindex.catalog.textworker import TextIndexer
from traindex.config import Settings
from traindex.errors import InputError
from traindex.ingest.base import DatasetReader, ReaderOptions, SourceFile
from traindex.ingest.detect import detect_reader
from traindex.ingest.shards import IngestListener, Rejects, ShardJob, SourcePlan
from traindex.jobs.ray import RayOptions

__all__ = ["IngestReport", "account", "ingest"]


@dataclass
class IngestReport:
    """What one ingest run did."""

    dataset: str
    release: str
    format: str
    sources_total: int = 0
    sources_skipped: int = 0
    sources_ingested: int = 0
    rows: int = 0
    failed: int = 0
    rejected: int = 0
    seconds: float = 0.0
    rejected_dir: Path | None = None
    """Where bad rows are logged (``rejected/<shard id>.parquet``: file, row, column, reason)."""


def ingest(
    settings: Settings,
    root: Path,
    *,
    dataset: str,
    release: str,
    fmt: str | None = None,
    options: ReaderOptions | None = None,
    skip_bad_rows: bool = False,
    listener: IngestListener | None = None,
    ray: RayOptions | None = None,
) -> IngestReport:
    """Ingest ``root`` (a file or folder) as ``dataset/release``; resumable, shard-atomic.

    With ``ray``, every source file is one Ray task and the run commits all its shards at
    once (``ingest.cluster``); the catalog it leaves is the one a local run leaves."""
    started = time.perf_counter()
    listener = listener or IngestListener()
    if not root.exists():
        raise InputError("no such file or folder", path=str(root))
    rejects = Rejects()
    options = replace(options or ReaderOptions(), on_bad_row=rejects if skip_bad_rows else None)
    reader = detect_reader(root, fmt, options)
    rel, manifest = Catalog(settings).open_release(dataset, release, reader.format, root)
    manifest.columns = manifest.columns or dict(options.columns)
    sources = reader.sources(root)
    if not sources:
        raise InputError(f"no {reader.format} source files found", path=str(root))
    report = IngestReport(
        dataset, release, reader.format, sources_total=len(sources), rejected_dir=rel.rejected_dir
    )
    todo = _todo(manifest, sources, reader, report, listener)
    if todo and ray is not None:
        from traindex.ingest.cluster import ingest_on_ray

        plan = SourcePlan(settings, rel.dir, root, reader.format, options, skip_bad_rows)
        for entry in ingest_on_ray(plan, manifest, todo, ray, listener):
            account(report, entry)
    elif todo:
        job = ShardJob(settings, rel, reader, listener)
        with TextIndexer(rel.text_dir, settings.index_heap_bytes) as text:
            for source in todo:
                rejects.rows.clear()
                _commit(rel, manifest, job.run(source, manifest.next_id(), rejects, text), report)
                listener.on_source(source, "ingested")
    if todo and len(manifest.sources) >= COMPACT_AFTER_SHARDS:
        _compact(rel, manifest)
    report.seconds = time.perf_counter() - started
    return report


def _todo(
    manifest: Manifest,
    sources: list[SourceFile],
    reader: DatasetReader,
    report: IngestReport,
    listener: IngestListener,
) -> list[SourceFile]:
    """Sources not ingested yet; the others are counted and reported as skipped."""
    todo = [s for s in sources if not _already_done(manifest, s)]
    listener.on_start(sources, _rows_to_read(reader, todo))
    for source in sources:
        if source not in todo:
            report.sources_skipped += 1
            listener.on_source(source, "skipped")
    return todo


def _compact(rel: Release, manifest: Manifest) -> None:
    """Merge the key indexes of all shards (one probe per lookup, not one per shard), then
    touch the manifest so that open readers reload."""
    compact_keys(rel.keys_dir, [s.id for s in manifest.sources])
    manifest.updated_at = utc_now()
    manifest.save(rel.manifest_path)


def _rows_to_read(reader: DatasetReader, todo: list[SourceFile]) -> int | None:
    counts = [reader.row_count(source) for source in todo]
    return None if None in counts else sum(c or 0 for c in counts)


def _already_done(manifest: Manifest, source: SourceFile) -> bool:
    done = manifest.source(source.relpath)
    if done is not None and done.size != source.size:
        raise InputError(
            f"source changed since it was ingested ({done.size} -> {source.size} bytes); "
            "ingest it as a new --release",
            path=str(source.path),
        )
    return done is not None


def _commit(rel: Release, manifest: Manifest, entry: SourceEntry, report: IngestReport) -> None:
    """List the shard in the manifest: from here on, searches see it."""
    manifest.sources.append(entry)
    manifest.updated_at = utc_now()
    manifest.save(rel.manifest_path)
    account(report, entry)


def account(report: IngestReport, entry: SourceEntry) -> None:
    report.sources_ingested += 1
    report.rows += entry.rows
    report.failed += sum(entry.failed.values())
    report.rejected += entry.rejected
