"""The fingerprint job's ISCC stage (``traindex fingerprint --iscc``): one catalog shard's
images -> one table of ISO 24138 Image-Codes.

Same contract as ``keypoints.keypoint_shard``: a plain function of a picklable task (local
processes and Ray run it), written atomically to ``<release>/iscc/<shard>.parquet``, a
shard whose table exists is skipped (resumable), a bad image becomes a row with ``error``
set. A separate pass because the ISCC needs its own full-size decode (PDQ's decode is
JPEG-draft-scaled): a release gets it when content-bound declarations are to be matched.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from traindex.catalog.store import Release
from traindex.errors import InputError
from traindex.fingerprint.iscc import IsccFingerprinter, image_code_body
from traindex.jobs.stages import ShardResult, StageTask, catalog_images, run_stage

__all__ = ["ISCC_SCHEMA", "STAGE", "IsccOptions", "IsccShardTask", "iscc_shard", "read_iscc"]

STAGE = "iscc"
ISCC_SCHEMA = pa.schema(
    [
        pa.field("row", pa.int64()),
        pa.field("key", pa.string()),
        pa.field("image", pa.string()),
        pa.field("iscc", pa.string()),  # 16 hex: the Image-Code's 64-bit body
        pa.field("error", pa.string()),
    ]
)


@dataclass(frozen=True, slots=True)
class IsccOptions:
    """The stage has no settings (64-bit codes, as ``iscc-sdk`` makes by default); the
    type keeps ``StageTask`` uniform across stages."""


IsccShardTask = StageTask[IsccOptions]


def _records(task: IsccShardTask) -> Iterator[dict[str, object]]:
    fingerprinter = IsccFingerprinter(max_pixels=task.shard.max_pixels)
    for ref, row in catalog_images(task.shard):
        record: dict[str, object] = {"row": row, "key": ref.key, "image": ref.name}
        try:
            code = fingerprinter.fingerprint(ref.data, name=ref.name)
        except InputError as exc:
            yield {**record, "error": str(exc)}
            continue
        yield {**record, "iscc": image_code_body(code)}


def iscc_shard(task: IsccShardTask) -> ShardResult:
    """Compute the Image-Codes of one shard's images, or skip it if already done."""
    return run_stage(task.shard, STAGE, lambda: _records(task), ISCC_SCHEMA)


def read_iscc(release: Release) -> pa.Table:
    """Every written ISCC table of ``release`` with a ``shard`` column (rows without a code
    left out); empty when the stage never ran."""
    parts = []
    for shard_id in release.stage_tables(STAGE):
        table = pq.read_table(release.stage_table(STAGE, shard_id), columns=["row", "iscc"])
        table = table.filter(pc.is_valid(table.column("iscc")))
        parts.append(table.append_column("shard", pa.array([shard_id] * len(table), pa.int32())))
    if not parts:
        return pa.table({"row": [], "iscc": [], "shard": []}, schema=_READ_SCHEMA)
    return pa.concat_tables(parts)


_READ_SCHEMA = pa.schema([("row", pa.int64()), ("iscc", pa.string()), ("shard", pa.int32())])
