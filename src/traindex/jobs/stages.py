"""The fingerprint job's stage: one catalog shard's images -> one fingerprint shard.

``fingerprint_shard`` is a plain function of a picklable ``ShardTask`` so that any
distributor (local processes, Ray) can run it; it writes
``<release>/fingerprints/<shard>.parquet`` atomically (temporary file, then rename) and
skips a shard whose output exists, which makes the job resumable per shard. A bad image
never stops the job: it becomes a row with ``error`` set (the per-image error log).

Per image: SHA-256 of the bytes as stored, PDQ of the decoded image and, when the image
has a uniform border (padding, a frame), PDQ of the trimmed image too. Decoding and
hashing go through ``search.hashing``, the very path queries take, so the same file
always hashes to the same PDQ on both sides.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import pyarrow as pa
import pyarrow.parquet as pq

from traindex.catalog.store import Release
from traindex.errors import InputError
from traindex.fingerprint.exact import file_digest
from traindex.fingerprint.hashing import DATASET_PLAN, decode_for_hashing
from traindex.fingerprint.images import DEFAULT_MAX_PIXELS
from traindex.fingerprint.locate import FolderImages, ImageRef, recorded_file, shard_images
from traindex.fingerprint.pdq import PdqFingerprinter
from traindex.fingerprint.variants import query_variants

__all__ = [
    "FINGERPRINT_SCHEMA",
    "ShardResult",
    "ShardTask",
    "StageTask",
    "catalog_images",
    "fingerprint_record",
    "fingerprint_shard",
    "row_keys",
    "run_stage",
    "stage_tasks",
    "write_table",
]

FINGERPRINT_SCHEMA = pa.schema(
    [
        pa.field("row", pa.int64()),
        pa.field("key", pa.string()),
        pa.field("image", pa.string()),
        pa.field("sha256", pa.string()),
        pa.field("pdq", pa.binary(32)),
        pa.field("pdq_quality", pa.int16()),
        pa.field("pdq_trim", pa.binary(32)),
        pa.field("width", pa.int32()),
        pa.field("height", pa.int32()),
        pa.field("error", pa.string()),
    ]
)


@dataclass(frozen=True, slots=True)
class ShardTask:
    """Everything one worker needs to fingerprint one catalog shard."""

    release_dir: Path
    shard_id: int
    format: str
    source: Path
    folder: FolderImages | None = None
    max_pixels: int = DEFAULT_MAX_PIXELS


Options = TypeVar("Options")


@dataclass(frozen=True, slots=True)
class StageTask(Generic[Options]):
    """One catalog shard plus an optional stage's settings (faces, keypoints); workers
    build their own detectors from the settings, so the task stays small and picklable."""

    shard: ShardTask
    options: Options


def stage_tasks(tasks: Sequence[ShardTask], options: Options) -> list[StageTask[Options]]:
    return [StageTask(task, options) for task in tasks]


@dataclass(frozen=True, slots=True)
class ShardResult:
    shard_id: int
    images: int
    errors: int
    skipped: bool


def output_path(release_dir: Path, shard_id: int) -> Path:
    return release_dir / "fingerprints" / f"{shard_id:05d}.parquet"


def row_keys(release: Release, shard_id: int) -> dict[str, tuple[int, str | None]]:
    """Catalog shard's image key -> (row, file name the dataset recorded): how an image found
    in a tar, parquet or folder is joined back to its row (shared with the near-copy index)."""
    table = pq.read_table(release.shard_path(shard_id), columns=["key", "extra"])
    keys = table.column("key").to_pylist()
    extras = table.column("extra").to_pylist()
    return {
        str(k): (row, recorded_file(e))
        for row, (k, e) in enumerate(zip(keys, extras, strict=True))
        if k is not None
    }


def fingerprint_record(
    ref: ImageRef, row: int, hasher: PdqFingerprinter, max_pixels: int
) -> dict[str, object]:
    """One image's fingerprint row (``error`` set when it cannot be decoded)."""
    record: dict[str, object] = {
        "row": row, "key": ref.key, "image": ref.name,
        "sha256": file_digest(ref.data),
    }  # fmt: skip
    try:
        decoded = decode_for_hashing(ref.data, ref.name, max_pixels)
    except InputError as exc:
        record["error"] = str(exc)
        return record
    hashes = {fp.variant: fp for fp in query_variants(decoded.image, hasher, DATASET_PLAN)}
    trimmed = hashes.get("trim")
    record.update(
        pdq=hashes["original"].digest,
        pdq_quality=hashes["original"].quality,
        pdq_trim=trimmed.digest if trimmed is not None else None,
        width=decoded.source_size[0],
        height=decoded.source_size[1],
    )
    return record


def _records(task: ShardTask, release: Release) -> Iterator[dict[str, object]]:
    keys = row_keys(release, task.shard_id)
    hasher = PdqFingerprinter(max_pixels=task.max_pixels)
    wanted = {key: file for key, (_, file) in keys.items()}
    for ref in shard_images(task.format, task.source, wanted, task.folder):
        found = keys.get(ref.key)
        if found is not None:  # images of failed or rejected rows have no catalog row
            yield fingerprint_record(ref, found[0], hasher, task.max_pixels)


def catalog_images(shard: ShardTask) -> Iterator[tuple[ImageRef, int]]:
    """One shard's images that have a catalog row, each with its row: what every per-image
    optional stage walks."""
    keys = row_keys(Release(shard.release_dir), shard.shard_id)
    wanted = {key: file for key, (_, file) in keys.items()}
    for ref in shard_images(shard.format, shard.source, wanted, shard.folder):
        found = keys.get(ref.key)
        if found is not None:  # images of failed or rejected rows have no catalog row
            yield ref, found[0]


def run_stage(
    shard: ShardTask,
    stage: str,
    records: Callable[[], Iterator[dict[str, object]]],
    schema: pa.Schema,
) -> ShardResult:
    """Write one shard's table of an optional stage from ``records``, or skip the shard if
    its table exists (how every stage resumes); records with ``error`` count as errors."""
    out = Release(shard.release_dir).stage_table(stage, shard.shard_id)
    if out.exists():
        return ShardResult(shard.shard_id, 0, 0, skipped=True)
    rows = list(records())
    write_table(out, rows, schema)
    errors = sum(1 for r in rows if r.get("error"))
    return ShardResult(shard.shard_id, len(rows), errors, skipped=False)


def write_table(out: Path, records: list[dict[str, object]], schema: pa.Schema) -> None:
    """Write a stage's output table atomically (temporary file, then rename): a crashed
    worker leaves no half-written shard for the next run to mistake for a finished one."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    pq.write_table(pa.Table.from_pylist(records, schema=schema), tmp)
    tmp.replace(out)


def fingerprint_shard(task: ShardTask) -> ShardResult:
    """Fingerprint one shard's images, or skip it if its output already exists."""
    out = output_path(task.release_dir, task.shard_id)
    if out.exists():
        return ShardResult(task.shard_id, 0, 0, skipped=True)
    records = list(_records(task, Release(task.release_dir)))
    write_table(out, records, FINGERPRINT_SCHEMA)
    errors = sum(1 for r in records if r.get("error"))
    return ShardResult(task.shard_id, len(records), errors, skipped=False)
