"""Ingest: stream a release's source files into the catalog, one committed shard each.

Stages per source file: read (format reader) -> normalise -> write Parquet shard, key
indexes and caption index. A shard is committed by renaming its Parquet file into place
and then listing it in the manifest; until then searches ignore it, and a re-run deletes
whatever the failed attempt left and does the source again. Sources already listed are
skipped, so an interrupted ingest resumes where it stopped.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from traindex.catalog.keys import KeySpiller
from traindex.catalog.manifest import Manifest, SourceEntry, utc_now
from traindex.catalog.merged_keys import COMPACT_AFTER_SHARDS, compact_keys
from traindex.catalog.store import Catalog, Release
from traindex.catalog.textworker import TextIndexer
from traindex.config import Settings
from traindex.errors import BadRowError, InputError
from traindex.ingest.base import DatasetReader, ReaderOptions, SourceFile, urls_required
from traindex.ingest.detect import detect_reader
from traindex.ingest.normalise import DICTIONARY_COLUMNS, SAMPLE_SCHEMA, normalise_batch
from traindex.jobs.ray import RayOptions

__all__ = ["IngestListener", "IngestReport", "SourcePlan", "account", "ingest"]

_REJECT_FIELDS: list[tuple[str, pa.DataType]] = [
    ("file", pa.string()),
    ("row", pa.int64()),
    ("column", pa.string()),
    ("reason", pa.string()),
]
_REJECT_SCHEMA = pa.schema(_REJECT_FIELDS)


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


@dataclass
class IngestListener:
    """Callbacks for progress display; the library itself prints nothing."""

    # (sources, rows still to read or None when a file does not record its row count)
    on_start: Callable[[list[SourceFile], int | None], None] = lambda sources, rows: None
    on_rows: Callable[[int], None] = lambda n: None
    on_source: Callable[[SourceFile, str], None] = lambda source, status: None


@dataclass
class _Rejects:
    rows: list[BadRowError] = field(default_factory=list)

    def __call__(self, error: BadRowError) -> None:
        self.rows.append(error)


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
    rejects = _Rejects()
    options = replace(options or ReaderOptions(), on_bad_row=rejects if skip_bad_rows else None)
    reader = detect_reader(root, fmt, options)
    rel, manifest = Catalog(settings).open_release(dataset, release, reader.format, root)
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
        job = _ShardJob(settings, rel, reader, listener)
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


@dataclass(frozen=True, slots=True)
class SourcePlan:
    """What a worker needs to write any source file of a release as a shard (picklable:
    the reader is rebuilt from the format and options, without the bad-row callback)."""

    settings: Settings
    release_dir: Path
    root: Path
    format: str
    options: ReaderOptions
    skip_bad_rows: bool

    def stage(self, source: SourceFile, shard_id: int, work: Path) -> SourceEntry:
        """Write ``source`` as shard ``shard_id`` into ``work`` (``shard.parquet``,
        ``keys/<field>/<id>.{h,r}.npy``, ``rejected.parquet``) without touching the
        release: the caller moves the files in and commits. Captions are indexed by the
        caller too, from the shard (one writer per release index)."""
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        rejects = _Rejects()
        options = replace(self.options, on_bad_row=rejects if self.skip_bad_rows else None)
        reader = detect_reader(self.root, self.format, options)
        job = _ShardJob(self.settings, Release(self.release_dir), reader, IngestListener())
        spiller = KeySpiller(work / "pairs")
        try:
            rows, failed = job.write(source, work / "shard.parquet", shard_id, spiller, None)
            spiller.finish(work / "keys", shard_id)
        finally:
            spiller.close()
        write_rejects(work / "rejected.parquet", rejects)
        return _entry(source, shard_id, rows, failed, len(rejects.rows))


def _entry(
    source: SourceFile, shard_id: int, rows: int, failed: dict[str, int], rejected: int
) -> SourceEntry:
    return SourceEntry(
        id=shard_id,
        relpath=source.relpath,
        size=source.size,
        sha256=source.sha256(),
        rows=rows,
        failed=failed,
        rejected=rejected,
        ingested_at=utc_now(),
    )


@dataclass(frozen=True, slots=True)
class _ShardJob:
    """Writes one source file as one shard: Parquet, key indexes, caption documents."""

    settings: Settings
    rel: Release
    reader: DatasetReader
    listener: IngestListener

    def run(
        self, source: SourceFile, shard_id: int, rejects: _Rejects, text: TextIndexer
    ) -> SourceEntry:
        work = self.rel.tmp_dir / f"{shard_id:05d}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        spiller = KeySpiller(work / "keys")
        try:
            text.begin(shard_id)
            rows, failed = self.write(source, work / "shard.parquet", shard_id, spiller, text)
            text.commit()
            spiller.finish(self.rel.keys_dir, shard_id)
            if rejects.rows:
                self.rel.rejected_dir.mkdir(exist_ok=True)
                write_rejects(self.rel.rejected_dir / f"{shard_id:05d}.parquet", rejects)
            (work / "shard.parquet").replace(self.rel.shard_path(shard_id))
        except BaseException:
            text.rollback()
            spiller.close()
            raise
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return _entry(source, shard_id, rows, failed, len(rejects.rows))

    def write(
        self,
        source: SourceFile,
        out_path: Path,
        shard_id: int,
        spiller: KeySpiller,
        text: TextIndexer | None,
    ) -> tuple[int, dict[str, int]]:
        rows = 0
        failed: dict[str, int] = {}
        cfg = self.settings
        with pq.ParquetWriter(
            out_path,
            SAMPLE_SCHEMA,
            compression="zstd",
            # URLs and captions are unique: dictionaries only pay off on tag-like columns
            use_dictionary=list(DICTIONARY_COLUMNS),
            write_statistics=["source_row"],
        ) as out:
            for raw in self.reader.batches(source, cfg.batch_rows):
                norm = normalise_batch(
                    raw,
                    self.reader.options,
                    path=str(source.path),
                    max_url_chars=cfg.max_url_chars,
                    url_required=urls_required(self.reader),
                )
                for reason, count in norm.failed.items():
                    failed[reason] = failed.get(reason, 0) + count
                batch = norm.rows
                if batch.num_rows:
                    out.write_batch(batch, row_group_size=cfg.row_group_rows)
                    spiller.add(batch, rows)
                    if text is not None:
                        text.add(shard_id, rows, batch.column("caption"))
                    rows += batch.num_rows
                self.listener.on_rows(raw.num_rows)
        return rows, failed


def write_rejects(path: Path, rejects: _Rejects) -> None:
    if not rejects.rows:
        return
    table = pa.Table.from_pylist(
        [
            {"file": e.path, "row": e.row, "column": e.column, "reason": str(e)}
            for e in rejects.rows
        ],
        schema=_REJECT_SCHEMA,
    )
    pq.write_table(table, path)
