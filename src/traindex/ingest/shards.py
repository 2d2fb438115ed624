"""Writing one source file as one catalog shard: the part of ingest a worker runs.

``ShardJob`` writes a source in place (the local path, caption documents included);
``SourcePlan`` is its picklable form for a Ray task, which stages the shard in a folder for
the driver to commit. Both write the same Parquet, key arrays and rejected-row log, so a
shard is the same whichever distributor wrote it.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from traindex.catalog.keys import KeySpiller
from traindex.catalog.manifest import SourceEntry, utc_now
from traindex.catalog.store import Release
from traindex.catalog.textworker import TextIndexer
from traindex.config import Settings
from traindex.errors import BadRowError
from traindex.ingest.base import DatasetReader, ReaderOptions, SourceFile, urls_required
from traindex.ingest.detect import detect_reader
from traindex.ingest.normalise import DICTIONARY_COLUMNS, SAMPLE_SCHEMA, normalise_batch

__all__ = ["IngestListener", "Rejects", "ShardJob", "SourcePlan", "entry_of", "write_rejects"]

_REJECT_FIELDS: list[tuple[str, pa.DataType]] = [
    ("file", pa.string()),
    ("row", pa.int64()),
    ("column", pa.string()),
    ("reason", pa.string()),
]
_REJECT_SCHEMA = pa.schema(_REJECT_FIELDS)


@dataclass
class IngestListener:
    """Callbacks for progress display; the library itself prints nothing."""

    # (sources, rows still to read or None when a file does not record its row count)
    on_start: Callable[[list[SourceFile], int | None], None] = lambda sources, rows: None
    on_rows: Callable[[int], None] = lambda n: None
    on_source: Callable[[SourceFile, str], None] = lambda source, status: None


@dataclass
class Rejects:
    rows: list[BadRowError] = field(default_factory=list)

    def __call__(self, error: BadRowError) -> None:
        self.rows.append(error)


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
        rejects = Rejects()
        options = replace(self.options, on_bad_row=rejects if self.skip_bad_rows else None)
        reader = detect_reader(self.root, self.format, options)
        job = ShardJob(self.settings, Release(self.release_dir), reader, IngestListener())
        spiller = KeySpiller(work / "pairs")
        try:
            rows, failed = job.write(source, work / "shard.parquet", shard_id, spiller, None)
            spiller.finish(work / "keys", shard_id)
        finally:
            spiller.close()
        write_rejects(work / "rejected.parquet", rejects)
        return entry_of(source, shard_id, rows, failed, len(rejects.rows))


def entry_of(
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
class ShardJob:
    """Writes one source file as one shard: Parquet, key indexes, caption documents."""

    settings: Settings
    rel: Release
    reader: DatasetReader
    listener: IngestListener

    def run(
        self, source: SourceFile, shard_id: int, rejects: Rejects, text: TextIndexer
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
        return entry_of(source, shard_id, rows, failed, len(rejects.rows))

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


def write_rejects(path: Path, rejects: Rejects) -> None:
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
