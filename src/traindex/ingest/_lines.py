"""Line-oriented readers for headerless, tab-separated dataset files (CC3M, CC12M, YFCC100M,
img2dataset URL lists).

Contract, the same for every such format:

* the file is read line by line in binary (``.gz``/``.bz2`` decompressed on the fly), so
  memory is bounded by ``batch_rows`` and by ``MAX_LINE_BYTES`` per line; a longer line
  is skipped to its end and reported, never loaded whole (a 100 kB URL is fine: it is
  well under the limit, and URL-length policy belongs to ``normalise``);
* ``source_row`` is the 0-based physical line number, so a row can be found again with
  ``sed -n``; blank lines are not rows, and a known header line is skipped;
* a line that is not UTF-8, has the wrong number of tab-separated cells or a bad value
  is handed to ``ReaderOptions.bad_row`` as a ``BadRowError`` naming file and row (it
  raises unless ``--skip-bad-rows`` is on); nothing is silently mangled;
* a file with no bytes at all is an ``InputError("empty file")``.
"""

from __future__ import annotations

import bz2
import gzip
from abc import abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, ClassVar

import pyarrow as pa

from traindex.errors import BadRowError, InputError
from traindex.ingest.base import (
    RAW_SCHEMA,
    DatasetReader,
    ReaderOptions,
    SourceFile,
    table_from_records,
    to_raw_batch,
)

__all__ = ["MAX_LINE_BYTES", "LineReader", "first_line", "iter_lines", "line_files"]

MAX_LINE_BYTES = 1 << 24
_FIELDS = frozenset(RAW_SCHEMA.names) - {"source_row", "extra"}
_NAMES = (".tsv", ".txt", ".tsv.gz", ".txt.gz", ".tsv.bz2", ".txt.bz2")


def _open(path: Path) -> IO[bytes] | gzip.GzipFile | bz2.BZ2File:
    suffix = path.suffix.lower()
    if suffix == ".gz":
        return gzip.open(path, "rb")
    if suffix == ".bz2":
        return bz2.open(path, "rb")
    return path.open("rb")


def _skip_rest(fh: IO[bytes] | gzip.GzipFile | bz2.BZ2File) -> None:
    while (chunk := fh.readline(MAX_LINE_BYTES)) and not chunk.endswith(b"\n"):
        pass


def iter_lines(path: Path, options: ReaderOptions) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, text)`` without the line ending, reporting unusable lines."""
    empty = True
    try:
        with _open(path) as fh:
            for number, raw in enumerate(iter(lambda: fh.readline(MAX_LINE_BYTES + 1), b"")):
                empty = False
                if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                    _skip_rest(fh)
                    message = f"line longer than {MAX_LINE_BYTES} bytes"
                    options.bad_row(BadRowError(message, path=str(path), row=number))
                    continue
                line = raw.removesuffix(b"\n").removesuffix(b"\r")
                try:
                    yield number, line.decode("utf-8")
                except UnicodeDecodeError as exc:
                    message = f"not UTF-8 (invalid byte at offset {exc.start})"
                    options.bad_row(BadRowError(message, path=str(path), row=number))
    except (OSError, EOFError) as exc:
        raise InputError(f"cannot read file ({exc})", path=str(path)) from None
    if empty:
        raise InputError("empty file", path=str(path))


def first_line(path: Path, limit: int = 1 << 16) -> str | None:
    """The first line of a file (or of the first text file in a folder), for sniffing."""
    files = [path] if path.is_file() else line_files(path)[:1]
    if not files:
        return None
    try:
        with _open(files[0]) as fh:
            raw = fh.readline(limit)
    except (OSError, EOFError):
        return None
    return raw.removesuffix(b"\n").removesuffix(b"\r").decode("utf-8", errors="replace")


def line_files(root: Path) -> list[Path]:
    """``root`` if it is a file, else its ``.tsv``/``.txt`` files (plain or compressed)."""
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name.lower().endswith(_NAMES))


class LineReader(DatasetReader):
    """Base for headerless TSV formats: subclasses turn a line's cells into a record.

    ``widths`` are the accepted cell counts; ``header`` is a first line to skip (as
    img2dataset prepends ``caption\\turl`` to CC3M). ``parse`` returns a dict of
    canonical fields (unknown keys end up in ``extra``), ``None`` to skip the line on
    purpose (YFCC videos), or raises ``BadRowError``.
    """

    widths: ClassVar[frozenset[int]]
    header: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def parse(self, cells: list[str], row: int, path: str) -> dict[str, Any] | None:
        """Turn one line's cells into a record."""

    def sources(self, root: Path) -> list[SourceFile]:
        return [SourceFile.of(p, root) for p in line_files(root)]

    def _records(self, path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
        for number, text in iter_lines(path, self.options):
            if not text.strip():
                continue
            cells = text.split("\t")
            if number == 0 and tuple(c.strip().lower() for c in cells) == self.header:
                continue
            try:
                if len(cells) not in self.widths:
                    expected = " or ".join(str(w) for w in sorted(self.widths))
                    raise BadRowError(
                        f"expected {expected} tab-separated columns, found {len(cells)}",
                        path=str(path),
                        row=number,
                    )
                record = self.parse(cells, number, str(path))
            except BadRowError as exc:
                self.options.bad_row(exc)
                continue
            if record is not None:
                yield number, record

    def batches(self, source: SourceFile, batch_rows: int) -> Iterator[pa.RecordBatch]:
        rows: list[int] = []
        records: list[dict[str, Any]] = []
        for number, record in self._records(source.path):
            rows.append(number)
            records.append(record)
            if len(records) >= batch_rows:
                yield _to_batch(rows, records, str(source.path))
                rows, records = [], []
        if records:
            yield _to_batch(rows, records, str(source.path))


def _to_batch(rows: list[int], records: list[dict[str, Any]], path: str) -> pa.RecordBatch:
    table = table_from_records(records, path=path, first_row=rows[0])
    columns = {name: name for name in table.column_names if name in _FIELDS}
    computed = {"source_row": pa.array(rows, pa.int64())}
    return to_raw_batch(table, columns, rows[0], computed=computed, path=path)
