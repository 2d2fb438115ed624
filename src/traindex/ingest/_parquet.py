"""Parquet plumbing shared by every parquet-based reader (LAION, DataComp, COYO,
img2dataset parquet output, plain tables).

Contract: files are opened with ``pyarrow.parquet.ParquetFile`` and streamed with
``iter_batches`` over the non-binary columns only, so memory is bounded by the batch size
and image bytes (img2dataset's ``jpg`` column) are never read. Every pyarrow failure -- an
empty, truncated or corrupt file, a bad page in the middle -- becomes an ``InputError``
naming the file (and the first row of the failing batch), never a bare ``ArrowInvalid``.
Sniffing reads only the footer schema of one file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.parquet as pq

from traindex.errors import InputError
from traindex.ingest.base import DatasetReader, SourceFile, to_raw_batch

__all__ = [
    "ParquetReader",
    "iter_parquet",
    "natural_key",
    "open_parquet",
    "parquet_files",
    "parquet_names",
    "text_columns",
]


def natural_key(path: Path) -> tuple[Any, ...]:
    """Sort key putting ``metadata_2`` before ``metadata_10`` (unpadded LAION indices)."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", path.as_posix()))


def open_parquet(path: Path) -> pq.ParquetFile:
    """Open ``path`` or raise ``InputError`` saying why it is not a readable parquet file."""
    if path.stat().st_size == 0:
        raise InputError("empty file", path=str(path))
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"not a readable parquet file ({exc})", path=str(path)) from None


def parquet_files(root: Path) -> list[Path]:
    """``root`` itself if it is a file, else every ``*.parquet`` below it in natural order."""
    if root.is_file():
        return [root]
    return sorted(root.rglob("*.parquet"), key=natural_key)


def parquet_names(root: Path) -> list[str] | None:
    """Column names of ``root`` (or of its first parquet file); ``None`` if unreadable."""
    files = [root] if root.is_file() else parquet_files(root)[:1]
    if not files or files[0].suffix.lower() != ".parquet":
        return None
    try:
        return list(pq.read_schema(files[0]).names)
    except (pa.ArrowException, OSError):
        return None


def text_columns(schema: pa.Schema) -> list[str]:
    """All columns except binary ones (image bytes are never read into the catalog)."""
    return [
        f.name
        for f in schema
        if not (pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type))
    ]


def iter_parquet(
    pf: pq.ParquetFile, path: Path, batch_rows: int, columns: list[str]
) -> Iterator[tuple[int, pa.RecordBatch]]:
    """Yield ``(first_row, batch)``; a read failure mid-file names the file and row."""
    first = 0
    batches = pf.iter_batches(batch_size=batch_rows, columns=columns, use_pandas_metadata=False)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except (pa.ArrowException, OSError) as exc:
            raise InputError(
                f"corrupt parquet data at or after this row ({exc})", path=str(path), row=first
            ) from None
        yield first, batch
        first += batch.num_rows


class ParquetReader(DatasetReader):
    """Base for formats that are parquet files with known column names.

    Subclasses set ``format``, ``description``, ``sniff`` and ``required`` (fields that
    must resolve), and may override ``embedding`` to attach a row-aligned vector file.
    """

    required: ClassVar[tuple[str, ...]] = ("url",)

    def sources(self, root: Path) -> list[SourceFile]:
        return [SourceFile.of(p, root) for p in parquet_files(root)]

    def embedding(self, source: SourceFile, num_rows: int) -> str | None:
        """Relative path of the vector file row-aligned with ``source``, after checking
        its row count; ``None`` when the format has none."""
        del source, num_rows
        return None

    def row_count(self, source: SourceFile) -> int | None:
        try:
            return int(open_parquet(source.path).metadata.num_rows)
        except InputError:
            return None  # files before this one are still ingested; reading it says why

    def batches(self, source: SourceFile, batch_rows: int) -> Iterator[pa.RecordBatch]:
        pf = open_parquet(source.path)
        names = text_columns(pf.schema_arrow)
        columns = self.resolve(names, path=str(source.path), required=self.required)
        emb_file = self.embedding(source, pf.metadata.num_rows)
        for first, batch in iter_parquet(pf, source.path, batch_rows, names):
            computed: dict[str, pa.Array[Any]] = {}
            if emb_file is not None:
                computed["emb_row"] = pa.array(range(first, first + batch.num_rows), pa.int64())
            yield to_raw_batch(
                batch,
                columns,
                first,
                constants={"emb_file": emb_file} if emb_file else None,
                computed=computed,
                path=str(source.path),
            )
