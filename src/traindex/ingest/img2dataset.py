"""img2dataset output folders, in each of its three ``output_format`` forms.

Formats:

* ``img2dataset-parquet`` -- ``NNNNN.parquet`` holding the per-sample metadata and the
  image bytes (``jpg``); the bytes column is never read.
* ``img2dataset-webdataset`` -- ``NNNNN.tar`` (``KEY.jpg``/``KEY.txt``/``KEY.json``)
  beside ``NNNNN.parquet``. Each tar is one source, streamed member by member with
  ``tarfile`` (mode ``r|*``: no seeking, no member index in memory).
* ``img2dataset-files`` -- ``NNNNN/KEY.{jpg,txt,json}`` beside ``NNNNN.parquet``; each
  shard folder is one source.

Rows carry ``key`` (parquet row order is not key order, so joins must use it) and
img2dataset's ``status``/``error_message``: failed samples (404, decode errors, ...) are
yielded too, so ingest can count them while search leaves them out. Failed samples are
absent from tars and ``files`` folders but present in the sidecar parquet, so after the
samples of a shard the sidecar rows whose key was not seen are appended. ``extra`` gets
``image_file``: the image's member name (tar) or file name (folder), for fingerprinting.
``source_row`` is the sample's position in the tar/folder (sidecar-only rows follow) or,
for the parquet form, the row in the parquet file.

Image-only tars (no ``KEY.json``, no sidecar parquet, as clip-retrieval's test tars):
their rows would have no URL and could only ever be found by image. That is refused
with an ``InputError`` explaining it, unless ``ReaderOptions.allow_missing_url`` is set,
in which case each image becomes a row keyed by its file name with ``url`` null. A
missing json is filled from the sidecar parquet row of the same key when there is one.
Memory per shard is bounded by the shard's metadata (10k samples by default).
"""

from __future__ import annotations

import json
import re
import tarfile
from abc import abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from traindex.errors import BadRowError, InputError
from traindex.ingest._parquet import ParquetReader, open_parquet, parquet_names, text_columns
from traindex.ingest.base import (
    DatasetReader,
    ReaderOptions,
    SourceFile,
    table_from_records,
    to_raw_batch,
)

__all__ = ["Img2datasetFilesReader", "Img2datasetParquetReader", "Img2datasetWebdatasetReader"]

_SHARD = re.compile(r"^\d+$")
_IMAGE_EXTS = frozenset({"jpg", "jpeg", "png", "webp", "gif", "bmp", "tif", "tiff"})
_MARKERS = frozenset({"key", "status", "url"})


@dataclass(slots=True)
class _Sample:
    key: str
    meta: dict[str, Any] | None = None
    caption: str | None = None
    image: str | None = None
    problem: str | None = None


def _is_output_parquet(path: Path) -> bool:
    return set(parquet_names(path) or ()) >= _MARKERS


def _sidecar(shard: Path) -> dict[str, dict[str, Any]]:
    """The shard's ``NNNNN.parquet`` rows by key (all samples, failures included)."""
    path = shard.with_name(shard.name.split(".")[0] + ".parquet")
    if not path.is_file():
        return {}
    pf = open_parquet(path)
    try:
        table = pf.read(columns=text_columns(pf.schema_arrow), use_pandas_metadata=False)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"corrupt parquet data ({exc})", path=str(path)) from None
    return {str(row.get("key")): row for row in table.to_pylist()}


def _merge(
    samples: Iterable[_Sample],
    sidecar: dict[str, dict[str, Any]],
    path: Path,
    options: ReaderOptions,
) -> Iterator[dict[str, Any]]:
    """The shard's samples as records, then the sidecar rows no sample had (failures).
    A sample with a broken part is reported and its key counted as seen, so the sidecar
    does not bring the rejected row back."""
    seen: set[str] = set()
    for row, sample in enumerate(samples):
        seen.add(sample.key)
        if sample.problem is not None:
            options.bad_row(BadRowError(sample.problem, path=str(path), row=row))
            continue
        meta = sample.meta if sample.meta is not None else sidecar.get(sample.key)
        if meta is None and not options.allow_missing_url:
            raise InputError(
                f"sample {sample.key!r} has no {sample.key}.json and the shard has no sidecar "
                "parquet, so its rows would have no URL and could only be found by image; "
                "allow that explicitly (--allow-missing-url) or add the metadata",
                path=str(path),
            )
        record = {"key": sample.key} | (meta or {})
        if sample.caption is not None and record.get("caption") is None:
            record["caption"] = sample.caption
        if sample.image is not None:
            record["image_file"] = sample.image
        yield record
    yield from (row for key, row in sidecar.items() if key not in seen)


def _split_name(name: str) -> tuple[str, str]:
    """webdataset convention: the key runs up to the first dot of the base name."""
    head, _, base = name.rpartition("/")
    stem, _, ext = base.partition(".")
    return (f"{head}/{stem}" if head else stem), ext.lower()


def _add_part(sample: _Sample, name: str, ext: str, data: bytes | None) -> None:
    if ext in _IMAGE_EXTS:
        sample.image = name
    elif ext == "json" and data is not None:
        try:
            meta = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            sample.problem = f"{name} is not valid JSON ({exc})"
            return
        if not isinstance(meta, dict):
            sample.problem = f"{name} holds a JSON {type(meta).__name__}, not an object"
            return
        sample.meta = meta
    elif ext == "txt" and data is not None:
        try:
            sample.caption = data.decode("utf-8")
        except UnicodeDecodeError:
            sample.problem = f"{name} is not UTF-8"


class _ShardReader(DatasetReader):
    """Shared by the tar and folder forms: samples of a shard + sidecar failures."""

    @abstractmethod
    def _samples(self, source: SourceFile) -> Iterator[_Sample]:
        """The shard's samples in stored order, grouped by key."""

    def batches(self, source: SourceFile, batch_rows: int) -> Iterator[pa.RecordBatch]:
        sidecar = _sidecar(source.path)
        records = _merge(self._samples(source), sidecar, source.path, self.options)
        chunk: list[dict[str, Any]] = []
        first = 0
        for record in records:
            chunk.append(record)
            if len(chunk) >= batch_rows:
                yield self._batch(chunk, first, source)
                first, chunk = first + len(chunk), []
        if chunk:
            yield self._batch(chunk, first, source)

    def _batch(self, chunk: list[dict[str, Any]], first: int, source: SourceFile) -> pa.RecordBatch:
        path = str(source.path)
        table = table_from_records(chunk, path=path, first_row=first)
        required = ("key",) if self.options.allow_missing_url else ("url", "key")
        columns = self.resolve(table.column_names, path=path, required=required)
        return to_raw_batch(table, columns, first, path=path)


def _tar_samples(path: Path) -> Iterator[_Sample]:
    current: _Sample | None = None
    try:
        with tarfile.open(path, mode="r|*") as archive:
            for member in archive:
                if not member.isfile():
                    continue
                key, ext = _split_name(member.name)
                if current is None or current.key != key:
                    if current is not None:
                        yield current
                    current = _Sample(key)
                wanted = ext in {"json", "txt"}
                handle = archive.extractfile(member) if wanted else None
                data = handle.read() if handle is not None else None
                _add_part(current, member.name, ext, data)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise InputError(f"not a readable tar shard ({exc})", path=str(path)) from None
    if current is not None:
        yield current


class Img2datasetWebdatasetReader(_ShardReader):
    format = "img2dataset-webdataset"
    description = "img2dataset webdataset output: NNNNN.tar (+ NNNNN.parquet sidecars)"

    @classmethod
    def sniff(cls, root: Path) -> float:
        tars = [root] if root.is_file() else sorted(root.glob("*.tar"))
        if not tars or tars[0].suffix.lower() != ".tar":
            return 0.0
        sidecar = tars[0].with_suffix(".parquet")
        return 0.95 if sidecar.is_file() and _is_output_parquet(sidecar) else 0.6

    def sources(self, root: Path) -> list[SourceFile]:
        tars = [root] if root.is_file() else sorted(root.rglob("*.tar"))
        return [SourceFile.of(p, root) for p in tars]

    def _samples(self, source: SourceFile) -> Iterator[_Sample]:
        return _tar_samples(source.path)


def _shard_dirs(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    if _SHARD.match(root.name) and any(root.glob("*.json")):
        return [root]
    return sorted(d for d in root.iterdir() if d.is_dir() and _SHARD.match(d.name))


def _folder_samples(folder: Path) -> Iterator[_Sample]:
    current: _Sample | None = None
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        key, ext = _split_name(path.name)
        if current is None or current.key != key:
            if current is not None:
                yield current
            current = _Sample(key)
        data = path.read_bytes() if ext in {"json", "txt"} else None
        _add_part(current, path.name, ext, data)
    if current is not None:
        yield current


class Img2datasetFilesReader(_ShardReader):
    format = "img2dataset-files"
    description = "img2dataset files output: NNNNN/KEY.{jpg,json,txt} (+ NNNNN.parquet)"

    @classmethod
    def sniff(cls, root: Path) -> float:
        dirs = _shard_dirs(root)
        return 0.95 if dirs and any(dirs[0].glob("*.json")) else 0.0

    def sources(self, root: Path) -> list[SourceFile]:
        return [SourceFile.of(d, root) for d in _shard_dirs(root)]

    def _samples(self, source: SourceFile) -> Iterator[_Sample]:
        return _folder_samples(source.path)


class Img2datasetParquetReader(ParquetReader):
    format = "img2dataset-parquet"
    description = "img2dataset parquet output: NNNNN.parquet with metadata (+ image bytes)"
    required = ("url", "key")

    @classmethod
    def sniff(cls, root: Path) -> float:
        names = parquet_names(root)
        if names is None or not set(names) >= _MARKERS:
            return 0.0
        if root.is_dir() and (any(root.glob("*.tar")) or _shard_dirs(root)):
            return 0.4
        return 0.9
