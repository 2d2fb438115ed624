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
from traindex.catalog.store import Catalog, Release
from traindex.catalog.textworker import TextIndexer
from traindex.config import Settings
from traindex.errors import BadRowError, InputError
from traindex.ingest.base import DatasetReader, ReaderOptions, SourceFile, urls_required
from traindex.ingest.detect import detect_reader
from traindex.ingest.normalise import DICTIONARY_COLUMNS, SAMPLE_SCHEMA, normalise_batch

__all__ = ["IngestListener", "IngestReport", "ingest"]

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
) -> IngestReport:
    """Ingest ``root`` (a file or folder) as ``dataset/release``; resumable, shard-atomic."""
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
    todo = [s for s in sources if not _already_done(manifest, s)]
    listener.on_start(sources, _rows_to_read(reader, todo))
    for source in sources:
        if source not in todo:
            report.sources_skipped += 1
            listener.on_source(source, "skipped")
    if todo:
        with TextIndexer(rel.text_dir, settings.index_heap_bytes) as text:
            job = _ShardJob(settings, rel, reader, listener, text)
            for source in todo:
                rejects.rows.clear()
                _commit(rel, manifest, job.run(source, manifest.next_id(), rejects), report)
                listener.on_source(source, "ingested")
    report.seconds = time.perf_counter() - started
    return report


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
    report.sources_ingested += 1
    report.rows += entry.rows
    report.failed += sum(entry.failed.values())
    report.rejected += entry.rejected


@dataclass(frozen=True, slots=True)
class _ShardJob:
    """Writes one source file as one shard: Parquet, key indexes, caption documents."""

    settings: Settings
    rel: Release
    reader: DatasetReader
    listener: IngestListener
    text: TextIndexer

    def run(self, source: SourceFile, shard_id: int, rejects: _Rejects) -> SourceEntry:
        work = self.rel.tmp_dir / f"{shard_id:05d}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        spiller = KeySpiller(work / "keys")
        try:
            self.text.begin(shard_id)
            rows, failed = self._write(source, work / "shard.parquet", shard_id, spiller)
            self.text.commit()
            spiller.finish(self.rel.keys_dir, shard_id)
            _write_rejects(self.rel, shard_id, rejects)
            (work / "shard.parquet").replace(self.rel.shard_path(shard_id))
        except BaseException:
            self.text.rollback()
            spiller.close()
            raise
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return SourceEntry(
            id=shard_id,
            relpath=source.relpath,
            size=source.size,
            sha256=source.sha256(),
            rows=rows,
            failed=failed,
            rejected=len(rejects.rows),
            ingested_at=utc_now(),
        )

    def _write(
        self,
        source: SourceFile,
        out_path: Path,
        shard_id: int,
        spiller: KeySpiller,
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
                    self.text.add(shard_id, rows, batch.column("caption"))
                    rows += batch.num_rows
                self.listener.on_rows(raw.num_rows)
        return rows, failed


def _write_rejects(rel: Release, shard_id: int, rejects: _Rejects) -> None:
    if not rejects.rows:
        return
    rel.rejected_dir.mkdir(exist_ok=True)
    table = pa.Table.from_pylist(
        [
            {"file": e.path, "row": e.row, "column": e.column, "reason": str(e)}
            for e in rejects.rows
        ],
        schema=_REJECT_SCHEMA,
    )
    pq.write_table(table, rel.rejected_dir / f"{shard_id:05d}.parquet")
