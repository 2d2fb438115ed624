"""Copy one input file minus the removed rows, in its own format, schema and bytes.

* **Parquet** (LAION, DataComp, COYO, img2dataset output, plain tables): one pass. Each
  record batch (all columns, binary ones included) is decided and written filtered with
  the input's Arrow schema, metadata and compression, so the output reads back with the
  same schema. The URL/hash/owner columns are found by the ingest alias table (or
  ``--columns``).
* **Text** (URL lists, CC3M/CC12M TSV, YFCC, CSV/TSV tables, also ``.gz``/``.bz2``): two
  passes. The format's ingest reader decides which rows are data and what their URL is
  (pass 1 collects the removed row numbers); pass 2 copies every other line *verbatim*,
  header, blank and unreadable lines included, so kept rows are byte-identical. CSV
  records spanning several lines (quoted newlines) are copied whole.

Memory: one batch, plus the row numbers of removed rows of the current file (8 bytes each).
"""

from __future__ import annotations

import bz2
import csv
import gzip
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from numpy.typing import NDArray

from traindex.errors import BadRowError
from traindex.filtering.deciders import Columns, Decider, Removal
from traindex.ingest._lines import LineReader
from traindex.ingest._parquet import iter_parquet, open_parquet, text_columns
from traindex.ingest.base import DatasetReader, ReaderOptions, SourceFile
from traindex.ingest.columns import ColumnMap, resolve_columns
from traindex.ingest.detect import detect_reader

__all__ = ["LOG_SCHEMA", "FileResult", "LogSink", "filter_parquet", "filter_text"]

LOG_SCHEMA = pa.schema(
    [
        ("input", pa.string()),
        ("row", pa.int64()),
        ("url", pa.string()),
        ("reason", pa.string()),
        ("decision", pa.string()),
        ("source", pa.string()),
        ("verified", pa.bool_()),
        ("match", pa.string()),  # image claims: method and distance per deciding claim
    ]
)
Progress = Callable[[int], None]
_LOOKUPS = ("flickr_owner", "sha256", "md5")


@dataclass
class FileResult:
    """Counts for one input file: rows read, kept, removed by reason, unreadable (kept),
    and ``unverified``: rows kept although an unverified claim names them (counted only
    with ``--include-unverified``; reported so that the builder sees them)."""

    rows: int = 0
    kept: int = 0
    removed: Counter[str] = field(default_factory=Counter)
    unreadable: int = 0
    unverified: int = 0


class LogSink:
    """Removed rows of one input, written to a Parquet log (``LOG_SCHEMA``)."""

    def __init__(self, path: Path, input_name: str) -> None:
        self.writer = pq.ParquetWriter(path, LOG_SCHEMA, compression="zstd")
        self.input_name = input_name

    def write(self, rows: list[int], urls: list[str | None], removals: list[Removal]) -> None:
        if not rows:
            return
        columns = {
            "input": [self.input_name] * len(rows),
            "row": rows,
            "url": urls,
            "reason": [r.reason for r in removals],
            "decision": [r.decision for r in removals],
            "source": [r.source for r in removals],
            "verified": [r.verified for r in removals],
            "match": [r.match for r in removals],
        }
        self.writer.write_table(pa.table(columns, schema=LOG_SCHEMA))

    def close(self) -> None:
        self.writer.close()


def _decide(
    decider: Decider,
    columns: Columns,
    first: int,
    rows: list[int] | None,
    log: LogSink,
    result: FileResult,
) -> NDArray[np.bool_]:
    """Decide a batch, log the removed rows, count; returns the keep mask."""
    removals = decider.decide(columns)
    gone = [i for i, r in enumerate(removals) if r is not None and not r.flag_only]
    result.unverified += sum(1 for r in removals if r is not None and r.flag_only)
    numbers = [(rows[i] if rows is not None else first + i) for i in gone]
    dropped = [r for i in gone if (r := removals[i]) is not None]
    log.write(numbers, pc.take(columns.url, pa.array(gone, pa.int64())).to_pylist(), dropped)
    for removal in dropped:
        result.removed[f"{removal.reason}:{removal.decision}"] += 1
    result.rows += len(removals)
    result.kept += len(removals) - len(gone)
    keep = np.ones(len(removals), np.bool_)
    keep[gone] = False
    return keep


def _column(batch: pa.RecordBatch, name: str | None) -> pa.Array | None:
    return None if name is None else batch.column(name).cast(pa.string())


def _compression(pf: pq.ParquetFile) -> str:
    if pf.metadata.num_row_groups == 0 or pf.metadata.num_columns == 0:
        return "zstd"
    return str(pf.metadata.row_group(0).column(0).compression).lower()


def filter_parquet(
    src: Path,
    dst: Path,
    decider: Decider,
    log: LogSink,
    *,
    batch_rows: int,
    overrides: ColumnMap | None,
    progress: Progress,
) -> FileResult:
    """Write ``src`` minus removed rows to ``dst`` with the same schema and compression."""
    pf = open_parquet(src)
    schema = pf.schema_arrow
    names = resolve_columns(text_columns(schema), path=str(src), overrides=overrides)
    result = FileResult()
    with pq.ParquetWriter(dst, schema, compression=_compression(pf)) as writer:
        for first, batch in iter_parquet(pf, src, batch_rows, schema.names):
            url = _column(batch, names["url"])
            assert url is not None
            extra = {k: _column(batch, names.get(k)) for k in _LOOKUPS}
            keep = _decide(decider, Columns(url, **extra), first, None, log, result)
            kept = batch.filter(pa.array(keep))  # from numpy: no per-row conversion
            if kept.num_rows:
                writer.write_batch(kept)
            progress(batch.num_rows)
    return result


def _open(path: Path, mode: Literal["rb", "wb"]) -> IO[bytes]:
    """Plain, gzip or bzip2 by suffix, so the output is compressed like the input."""
    suffix = path.suffix.lower()
    if suffix == ".gz":
        return gzip.open(path, mode)  # type: ignore[return-value]
    if suffix == ".bz2":
        return bz2.open(path, mode)
    return path.open(mode)


def text_reader(
    src: Path, fmt: str | None, overrides: ColumnMap | None, result: FileResult
) -> DatasetReader:
    """The ingest reader for a text input; unreadable rows are counted (and later kept)."""

    def count_bad(error: BadRowError) -> None:
        del error
        result.unreadable += 1

    options = ReaderOptions(columns=overrides or {}, on_bad_row=count_bad)
    return detect_reader(src, fmt, options)


def filter_text(
    src: Path,
    dst: Path,
    decider: Decider,
    log: LogSink,
    *,
    batch_rows: int,
    fmt: str | None,
    overrides: ColumnMap | None,
    progress: Progress,
) -> FileResult:
    """Copy ``src`` to ``dst`` verbatim except the removed rows (see module docstring)."""
    result = FileResult()
    reader = text_reader(src, fmt, overrides, result)
    removed: list[Any] = []
    for batch in reader.batches(SourceFile.of(src, src.parent), batch_rows):
        rows = batch.column("source_row").to_pylist()
        lookups = {k: _column(batch, k) for k in _LOOKUPS}
        columns = Columns(batch.column("url").cast(pa.string()), **lookups)
        keep = _decide(decider, columns, 0, rows, log, result)
        removed.append(np.asarray(rows, np.int64)[~keep])
        progress(batch.num_rows)
    gone = np.sort(np.concatenate(removed)) if removed else np.empty(0, np.int64)
    units = _lines(src) if isinstance(reader, LineReader) else _csv_records(src)
    _copy_except(units, gone.tolist(), dst)
    return result


def _copy_except(units: Iterator[tuple[int, bytes, bool]], gone: list[int], dst: Path) -> None:
    """Write every unit except rows listed in ``gone`` (ascending, as the units are)."""
    position = 0
    with _open(dst, "wb") as out:
        for number, raw, is_row in units:
            while position < len(gone) and gone[position] < number:
                position += 1
            if is_row and position < len(gone) and gone[position] == number:
                continue
            out.write(raw)


def _lines(src: Path) -> Iterator[tuple[int, bytes, bool]]:
    """Physical lines: their number is what line readers report as ``source_row``."""
    with _open(src, "rb") as handle:
        for number, raw in enumerate(handle):
            yield number, raw, True


def _csv_records(src: Path) -> Iterator[tuple[int, bytes, bool]]:
    """CSV/TSV records with their exact bytes: the header first (not a row), then data rows
    numbered from 0 as the table reader numbers them; blank lines are not rows."""
    tsv = src.suffix.lower() == ".tsv"
    consumed: list[str] = []
    with src.open(encoding="utf-8", newline="") as handle:

        def lines() -> Iterator[str]:
            for line in handle:
                consumed.append(line)
                yield line

        records = (
            csv.reader(lines(), delimiter="\t", quoting=csv.QUOTE_NONE)
            if tsv
            else csv.reader(lines(), delimiter=",")
        )
        number = -2  # the first non-blank record is the header
        for record in records:
            raw = "".join(consumed).encode("utf-8")
            consumed.clear()
            if not record:
                yield -1, raw, False
                continue
            number += 1
            yield number, raw, number >= 0
