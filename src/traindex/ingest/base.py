"""The ``DatasetReader`` interface and the raw batch every reader yields.

Why this shape: a release is a set of source files (parquet parts, TSVs, tar shards); the
ingest pipeline resumes and writes atomically *per source file*, so a reader lists its
sources and then streams one source as Arrow record batches. Readers only rename and
cast columns into ``RAW_SCHEMA``; URL canonicalisation, domains, Flickr ids and licences
are derived once, in ``normalise``, for every format alike.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar, cast

import pyarrow as pa
import pyarrow.compute as pc

from traindex.errors import BadRowError, InputError
from traindex.ingest.columns import ColumnMap, resolve_columns

__all__ = [
    "RAW_SCHEMA",
    "DatasetReader",
    "ReaderOptions",
    "SourceFile",
    "table_from_records",
    "to_raw_batch",
    "urls_required",
]

_RAW_FIELDS: list[pa.Field[Any]] = [
    pa.field("source_row", pa.int64()),
    pa.field("url", pa.string()),
    pa.field("caption", pa.string()),
    pa.field("key", pa.string()),
    pa.field("width", pa.int64()),
    pa.field("height", pa.int64()),
    pa.field("license", pa.string()),
    pa.field("license_url", pa.string()),
    pa.field("nsfw", pa.string()),
    pa.field("punsafe", pa.float64()),
    pa.field("pwatermark", pa.float64()),
    pa.field("similarity", pa.float64()),
    pa.field("sha256", pa.string()),
    pa.field("md5", pa.string()),
    pa.field("phash", pa.string()),
    pa.field("flickr_owner", pa.string()),
    pa.field("flickr_photo_id", pa.int64()),
    pa.field("author", pa.string()),
    pa.field("status", pa.string()),
    pa.field("error_message", pa.string()),
    pa.field("face_bboxes", pa.string()),
    pa.field("language", pa.string()),
    pa.field("emb_file", pa.string()),
    pa.field("emb_row", pa.int64()),
    pa.field("extra", pa.string()),
]
RAW_SCHEMA = pa.schema(_RAW_FIELDS)


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One file (or shard folder) of a release; ``relpath`` (relative to the ingested root)
    names the shard. A folder's ``size`` is the sum of the sizes of the files in it."""

    path: Path
    relpath: str
    size: int

    @classmethod
    def of(cls, path: Path, root: Path) -> SourceFile:
        rel = path.name if root == path else path.relative_to(root).as_posix()
        if path.is_dir():
            size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        else:
            size = path.stat().st_size
        return cls(path=path, relpath=rel, size=size)

    def sha256(self) -> str:
        """Hex SHA-256 of the source's bytes; for a shard folder, of its files' relative
        names and contents in sorted order (so a changed or added file changes it)."""
        digest = hashlib.sha256()
        files = sorted(p for p in self.path.rglob("*") if p.is_file()) if self.path.is_dir() else []
        for path in files or [self.path]:
            if files:
                name = path.relative_to(self.path).as_posix()
                digest.update(f"{name}\0{path.stat().st_size}\0".encode())
            with path.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(chunk)
        return digest.hexdigest()

    @property
    def root(self) -> Path:
        """The ingested root this source was listed from (so sidecar paths can be made
        relative to it again without the reader keeping state between calls)."""
        depth = len(PurePosixPath(self.relpath).parts)
        return self.path.parents[depth - 1] if depth > 1 else self.path.parent


@dataclass(frozen=True, slots=True)
class ReaderOptions:
    """What the user told ingest about the files' layout, and where bad rows go.

    ``on_bad_row`` is ``None`` to fail on the first bad row (the default, so nothing is
    silently dropped); ``--skip-bad-rows`` passes a callback that logs the row instead.
    ``allow_missing_url`` accepts shards that hold images but no URL metadata (image-only
    webdataset tars): their rows can then only be found by image, so it is opt-in.
    """

    columns: ColumnMap = field(default_factory=dict)
    swap_width_height: bool = False
    on_bad_row: Callable[[BadRowError], None] | None = None
    allow_missing_url: bool = False

    def bad_row(self, error: BadRowError) -> None:
        """Raise ``error``, or hand it to ``on_bad_row`` and carry on."""
        if self.on_bad_row is None:
            raise error
        self.on_bad_row(error)


def urls_required(reader: DatasetReader) -> bool:
    """Whether a row without a URL is a bad row for this reader and these options."""
    return reader.url_required and not reader.options.allow_missing_url


class DatasetReader(ABC):
    """Streams one dataset format into ``RAW_SCHEMA`` batches.

    ``sniff`` returns a confidence in [0, 1] that a path is in this format, so that
    auto-detection can pick the most specific reader and ``--format`` can override it.
    ``swap_width_height`` marks formats whose files store WIDTH and HEIGHT the wrong way
    round (raw laion2B parts); ``ReaderOptions.swap_width_height`` forces it for any reader.
    """

    format: ClassVar[str]
    description: ClassVar[str]
    swap_width_height: ClassVar[bool] = False
    # False where the format itself may lack URLs (embedding metadata of local files)
    url_required: ClassVar[bool] = True

    def __init__(self, options: ReaderOptions | None = None) -> None:
        self.options = options or ReaderOptions()

    @classmethod
    @abstractmethod
    def sniff(cls, root: Path) -> float:
        """Confidence that ``root`` (a file or folder) is in this format."""

    @abstractmethod
    def sources(self, root: Path) -> list[SourceFile]:
        """The release's source files in a stable order."""

    @abstractmethod
    def batches(self, source: SourceFile, batch_rows: int) -> Iterator[pa.RecordBatch]:
        """Stream ``source`` as ``RAW_SCHEMA`` batches; memory stays bounded by ``batch_rows``."""

    def row_count(self, source: SourceFile) -> int | None:
        """Rows in ``source`` if the file records it (a Parquet footer), else ``None``.

        Only for progress: counting text lines or tar members would read the file twice.
        """
        del source
        return None

    def resolve(
        self, available: Iterable[str], *, path: str, required: Iterable[str] = ("url",)
    ) -> ColumnMap:
        """``resolve_columns`` with the user's ``--columns`` and the width/height swap."""
        columns = resolve_columns(
            available, path=path, overrides=self.options.columns, required=required
        )
        if self.swap_width_height or self.options.swap_width_height:
            width, height = columns.pop("width", None), columns.pop("height", None)
            if height is not None:
                columns["width"] = height
            if width is not None:
                columns["height"] = width
        return columns


def table_from_records(records: list[dict[str, Any]], *, path: str, first_row: int) -> pa.Table:
    """Columns for a list of per-sample dicts (json members, parsed lines): the union of
    their keys in first-seen order, missing values null. Values of one field that Arrow
    cannot hold in one column (a number in one row, text in another) are an
    ``InputError`` naming the file and the batch's first row."""
    names = dict.fromkeys(name for record in records for name in record)
    try:
        return pa.table({name: [r.get(name) for r in records] for name in names})
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise InputError(
            f"a field mixes incompatible value types ({exc})", path=path, row=first_row
        ) from None


def _json_column(array: pa.Array[Any]) -> pa.Array[Any]:
    return pa.array(
        [None if v is None else json.dumps(v, default=str) for v in array.to_pylist()],
        type=pa.string(),
    )


def _first_unparsable(values: list[Any]) -> int:
    for i, value in enumerate(values):
        if value is None or not value.strip():
            continue
        try:
            float(value)
        except ValueError:
            return i
    return 0


def _numbers_from_text(array: pa.Array[Any], where: _Where) -> pa.Array[Any]:
    """Parse a text column into float64: blanks become null, anything else unparsable is
    an ``InputError`` naming the column and the first offending row."""
    trimmed = pc.utf8_trim_whitespace(array)
    blank = pc.equal(trimmed, pa.scalar("", array.type))
    cleaned = pc.if_else(blank, pa.scalar(None, array.type), trimmed)
    try:
        return cast("pa.Array[Any]", pc.cast(cleaned, pa.float64()))
    except pa.ArrowInvalid:
        row = where.first_row + _first_unparsable(array.to_pylist())
        raise InputError(
            "value is not a number", path=where.path, row=row, column=where.column
        ) from None


@dataclass(frozen=True, slots=True)
class _Where:
    path: str | None
    first_row: int
    column: str


def _cast(
    array: pa.Array[Any] | pa.ChunkedArray[Any], target: pa.DataType, where: _Where
) -> pa.Array[Any]:
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if array.type == target:
        return array
    if pa.types.is_nested(array.type):
        return _json_column(array)
    is_text = pa.types.is_string(array.type) or pa.types.is_large_string(array.type)
    numeric_target = pa.types.is_integer(target) or pa.types.is_floating(target)
    if numeric_target and is_text:
        array = _numbers_from_text(array, where)
    if pa.types.is_integer(target) and pa.types.is_floating(array.type):
        array = pc.round(array)
    return pc.cast(array, target, safe=False)


def _unmapped(schema: pa.Schema, columns: ColumnMap) -> list[str]:
    used = set(columns.values())
    return [
        f.name
        for f in schema
        if f.name not in used
        and not f.name.startswith("__")
        and not (pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type))
    ]


def _extra_column(batch: pa.RecordBatch | pa.Table, names: list[str]) -> pa.Array[Any]:
    rows = batch.select(names).to_pylist()
    return pa.array([json.dumps(r, default=str, ensure_ascii=False) for r in rows], pa.string())


def to_raw_batch(
    batch: pa.RecordBatch | pa.Table,
    columns: ColumnMap,
    first_row: int,
    *,
    constants: Mapping[str, Any] | None = None,
    computed: Mapping[str, pa.Array[Any]] | None = None,
    path: str | None = None,
) -> pa.RecordBatch:
    """Rename and cast a source batch into ``RAW_SCHEMA``.

    ``columns`` maps canonical field -> source column; ``computed`` supplies ready arrays
    (e.g. ``emb_row``, or ``source_row`` when rows were skipped); ``constants`` fills a
    field with one value. Source columns that are neither mapped nor internal
    (``__index_level_0__``) nor binary (image bytes) are kept as JSON in ``extra``. A text
    value that should be a number raises ``InputError`` naming ``path``, row and column.
    """
    n = batch.num_rows
    arrays: list[pa.Array[Any]] = []
    for fld in RAW_SCHEMA:
        if computed and fld.name in computed:
            arrays.append(_cast(computed[fld.name], fld.type, _Where(path, first_row, fld.name)))
        elif fld.name == "source_row":
            arrays.append(pa.array(range(first_row, first_row + n), pa.int64()))
        elif fld.name in columns:
            where = _Where(path, first_row, columns[fld.name])
            arrays.append(_cast(batch.column(columns[fld.name]), fld.type, where))
        elif constants and fld.name in constants:
            arrays.append(pa.array([constants[fld.name]] * n, fld.type))
        elif fld.name == "extra":
            rest = _unmapped(batch.schema, columns)
            arrays.append(_extra_column(batch, rest) if rest else pa.nulls(n, pa.string()))
        else:
            arrays.append(pa.nulls(n, fld.type))
    return pa.RecordBatch.from_arrays(arrays, schema=RAW_SCHEMA)
