"""Plain tables with a header row: CSV, TSV or parquet, mapped by alias or ``--columns``.

Format ``table``: the fallback for layouts without a dedicated reader, e.g. the CC3M
competition ``credits.csv`` (Open Images credit format: ``ImageID, OriginalURL,
OriginalLandingURL, License, AuthorProfileURL, Author, Title, OriginalMD5, ...``) or the
COYO preview CSV. Column names resolve case-insensitively through the alias table, and
``ReaderOptions.columns`` (``--columns url=PhotoURL,caption=Desc``) wins over it.

CSV/TSV are streamed with ``pyarrow.csv.open_csv`` (single-threaded so invalid rows keep
their numbers) with every column read as text, so a column that looks numeric in the
first block cannot fail later; numbers are parsed per field by ``to_raw_batch``.
``source_row`` is the 0-based data row (the header is not a row). A row with the wrong
number of cells is a ``BadRowError`` (skippable); bytes that are not UTF-8 are an
``InputError`` naming the line. Sniffing only reads the header, and scores low so that
any dedicated format wins.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.csv as pcsv

from traindex.errors import BadRowError, InputError
from traindex.ingest._parquet import ParquetReader, natural_key, parquet_names
from traindex.ingest.base import SourceFile, to_raw_batch
from traindex.ingest.columns import resolve_columns

__all__ = ["NULL_CELLS", "TableReader"]

_SUFFIXES = (".csv", ".tsv", ".parquet")
NULL_CELLS = ("",)
"""The cells a CSV/TSV table reads as missing. Only the empty one: pyarrow's default null
words ("NA", "null", "NaN", ...) are real captions and names in scraped text."""
_BLOCK_BYTES = 1 << 24


def _table_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    found = (p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in _SUFFIXES)
    return sorted(found, key=natural_key)


def _header(path: Path) -> list[str]:
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    with path.open("rb") as fh:
        raw = fh.readline(_BLOCK_BYTES)
    if not raw:
        raise InputError("empty file", path=str(path))
    try:
        line = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise InputError("header line is not UTF-8", path=str(path)) from None
    return next(csv.reader([line], delimiter=delimiter))


def _names(root: Path) -> list[str] | None:
    files = _table_files(root)[:1]
    if not files or files[0].suffix.lower() not in _SUFFIXES:
        return None
    if files[0].suffix.lower() == ".parquet":
        return parquet_names(files[0])
    try:
        return _header(files[0])
    except (InputError, OSError):
        return None


def _first_bad_line(path: Path) -> int | None:
    with path.open("rb") as fh:
        for number, raw in enumerate(fh):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return None


def _source_rows(position: int, count: int, invalid: list[int]) -> tuple[pa.Array[Any], int]:
    """Source rows of ``count`` good rows read after ``position``, stepping over the
    rejected rows in ``invalid`` (ascending); returns them and the next position."""
    rows: list[int] = []
    skipped = [r for r in invalid if r >= position]
    for _ in range(count):
        while skipped and skipped[0] == position:
            skipped.pop(0)
            position += 1
        rows.append(position)
        position += 1
    return pa.array(rows, pa.int64()), position


class TableReader(ParquetReader):
    format = "table"
    description = "any CSV/TSV/parquet with a header; columns by alias or --columns"

    @classmethod
    def sniff(cls, root: Path) -> float:
        names = _names(root)
        if not names:
            return 0.0
        try:
            resolve_columns(names, path=str(root))
        except InputError:
            return 0.1
        return 0.3

    def sources(self, root: Path) -> list[SourceFile]:
        return [SourceFile.of(p, root) for p in _table_files(root)]

    def row_count(self, source: SourceFile) -> int | None:
        return super().row_count(source) if source.path.suffix.lower() == ".parquet" else None

    def batches(self, source: SourceFile, batch_rows: int) -> Iterator[pa.RecordBatch]:
        if source.path.suffix.lower() == ".parquet":
            yield from super().batches(source, batch_rows)
        else:
            yield from self._csv_batches(source.path, batch_rows)

    def _open_csv(
        self, path: Path, names: list[str], invalid: list[int], pending: list[BadRowError]
    ) -> pcsv.CSVStreamingReader:
        """Stream ``path`` as text columns; a rejected row lands in ``invalid`` (skipped)
        or ``pending`` (to raise once pyarrow has stopped)."""

        def on_invalid(row: pcsv.InvalidRow) -> Literal["skip", "error"]:
            data_row = None if row.number is None else row.number - 2
            error = BadRowError(
                f"expected {row.expected_columns} columns, found {row.actual_columns}",
                path=str(path),
                row=data_row,
            )
            try:
                self.options.bad_row(error)
            except BadRowError:
                pending.append(error)
                return "error"
            invalid.append(-1 if data_row is None else data_row)
            return "skip"

        tsv = path.suffix.lower() == ".tsv"
        return pcsv.open_csv(
            path,
            read_options=pcsv.ReadOptions(use_threads=False, block_size=_BLOCK_BYTES),
            parse_options=pcsv.ParseOptions(
                delimiter="\t" if tsv else ",",
                quote_char=False if tsv else '"',
                newlines_in_values=not tsv,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=True,
                null_values=list(NULL_CELLS),
            ),
        )

    def _csv_batches(self, path: Path, batch_rows: int) -> Iterator[pa.RecordBatch]:
        names = _header(path)
        columns = self.resolve(names, path=str(path))
        invalid: list[int] = []
        pending: list[BadRowError] = []
        position = 0
        try:
            for block in self._open_csv(path, names, invalid, pending):
                for offset in range(0, block.num_rows, batch_rows):
                    batch = block.slice(offset, batch_rows)
                    rows, next_position = _source_rows(position, batch.num_rows, invalid)
                    yield to_raw_batch(
                        batch,
                        columns,
                        position,
                        computed={"source_row": rows},
                        path=str(path),
                    )
                    position = next_position
        except pa.ArrowInvalid as exc:
            if pending:
                raise pending[0] from None
            line = _first_bad_line(path)
            if line is not None:
                raise InputError("not UTF-8", path=str(path), row=line - 1) from None
            raise InputError(f"cannot parse as CSV ({exc})", path=str(path)) from None
