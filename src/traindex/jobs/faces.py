"""The fingerprint job's face stage (``traindex fingerprint --faces``): one catalog shard's
images -> one face table.

Same contract as ``stages.fingerprint_shard``, so the same distributors run it: a plain
function of a picklable task, output written atomically to
``<release>/faces/<shard>.parquet``, a shard whose table exists is skipped (resumable),
and a bad image becomes a row with ``error`` set instead of stopping the job. It is a
separate pass rather than part of the PDQ stage so that faces can be added to a release
fingerprinted earlier, and so a release nobody asked faces for never has any computed.

Where the catalog row carries the dataset's own face boxes (DataComp ``face_bboxes``),
those are embedded instead of running the detector.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow.parquet as pq

from traindex.catalog.indexes.faces import FACE_SCHEMA, face_table_path
from traindex.catalog.store import Release
from traindex.errors import InputError
from traindex.fingerprint.faces import FaceFingerprinter, FaceOptions, parse_dataset_boxes
from traindex.fingerprint.locate import ImageRef, recorded_file, shard_images
from traindex.jobs.stages import ShardResult, StageTask, write_table

__all__ = ["FaceRow", "FaceShardTask", "face_records", "face_shard"]


FaceShardTask = StageTask[FaceOptions]


@dataclass(frozen=True, slots=True)
class FaceRow:
    row: int
    file: str | None
    boxes: str | None


def _catalog_rows(release: Release, shard_id: int) -> dict[str, FaceRow]:
    path = release.shard_path(shard_id)
    names = set(pq.read_schema(path).names)
    columns = ["key", "extra"] + (["face_bboxes"] if "face_bboxes" in names else [])
    table = pq.read_table(path, columns=columns).to_pylist()
    return {
        str(r["key"]): FaceRow(i, recorded_file(r["extra"]), r.get("face_bboxes"))
        for i, r in enumerate(table)
        if r["key"] is not None
    }


def face_records(
    ref: ImageRef, row: FaceRow, scanner: FaceFingerprinter
) -> list[dict[str, object]]:
    """One image's face rows: one per face, or one ``face = -1`` row (none, or error)."""
    base: dict[str, object] = {"row": row.row, "key": ref.key, "image": ref.name}
    try:
        scan = scanner.scan(ref.data, name=ref.name, dataset_boxes=parse_dataset_boxes(row.boxes))
    except InputError as exc:
        return [{**base, "face": -1, "error": str(exc)}]
    if not scan.faces:
        return [{**base, "face": -1}]  # scanned, no face: recorded so a re-check is not needed
    return [
        {
            **base,
            "face": number,
            **face.box.to_json(),
            "size": face.size,
            "quality": face.quality,
            "source": face.source,
            "embedding": None if face.embedding is None else face.embedding.tolist(),
            "skipped": face.skipped,
        }
        for number, face in enumerate(scan.faces)
    ]


def _records(task: FaceShardTask) -> Iterator[dict[str, object]]:
    shard = task.shard
    rows = _catalog_rows(Release(shard.release_dir), shard.shard_id)
    scanner = FaceFingerprinter(task.options)
    wanted = {key: row.file for key, row in rows.items()}
    for ref in shard_images(shard.format, shard.source, wanted, shard.folder):
        found = rows.get(ref.key)
        if found is not None:  # images of failed or rejected rows have no catalog row
            yield from face_records(ref, found, scanner)


def face_shard(task: FaceShardTask) -> ShardResult:
    """Find and embed the faces of one shard's images, or skip it if already done.

    Every image read gets at least one row: one per face (embedded or too small), or a
    single ``face = -1`` row when it has no face or (with ``error``) cannot be decoded.
    """
    out = face_table_path(task.shard.release_dir, task.shard.shard_id)
    if out.exists():
        return ShardResult(task.shard.shard_id, 0, 0, skipped=True)
    records = list(_records(task))
    write_table(out, records, FACE_SCHEMA)
    images = len({r["row"] for r in records})
    errors = sum(1 for r in records if r.get("error"))
    return ShardResult(task.shard.shard_id, images, errors, skipped=False)
