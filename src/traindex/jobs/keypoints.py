"""The fingerprint job's keypoint stage (``traindex fingerprint --keypoints``): one catalog
shard's images -> one keypoint table.

Same contract as ``stages.fingerprint_shard`` and ``faces.face_shard``: a plain function
of a picklable task (so local processes and Ray run it), output written atomically to
``<release>/keypoints/<shard>.parquet``, a shard whose table exists is skipped
(resumable), a bad image becomes a row with ``error`` set. A separate pass, because it
costs a second, larger decode per image (points are found at 512 px, PDQ works at 128)
and adds ~6 kB per image: a release gets it when crop- and overlay-tolerant search is
wanted, and it can be added to a release fingerprinted earlier.
"""

from __future__ import annotations

from collections.abc import Iterator

from traindex.catalog.indexes.keypoints import KEYPOINT_SCHEMA, STAGE
from traindex.errors import InputError
from traindex.fingerprint.keypoints import KeypointFingerprinter, KeypointOptions
from traindex.fingerprint.locate import ImageRef
from traindex.jobs.stages import ShardResult, StageTask, catalog_images, run_stage

__all__ = ["KeypointShardTask", "keypoint_record", "keypoint_shard"]


KeypointShardTask = StageTask[KeypointOptions]


def _records(task: KeypointShardTask) -> Iterator[dict[str, object]]:
    for ref, row in catalog_images(task.shard):
        yield keypoint_record(ref, row, task.options, task.shard.max_pixels)


def keypoint_record(
    ref: ImageRef, row: int, options: KeypointOptions, max_pixels: int
) -> dict[str, object]:
    """One image's keypoint row (``error`` set when it cannot be decoded)."""
    record: dict[str, object] = {"row": row, "key": ref.key, "image": ref.name}
    try:
        points = KeypointFingerprinter(options, max_pixels=max_pixels).fingerprint(
            ref.data, name=ref.name
        )
    except InputError as exc:
        return {**record, "count": 0, "error": str(exc)}
    return {
        **record,
        "count": len(points),
        "points": points.points.astype("float16").tobytes(),
        "descriptors": points.descriptors.tobytes(),
    }


def keypoint_shard(task: KeypointShardTask) -> ShardResult:
    """Find the keypoints of one shard's images, or skip it if already done."""
    return run_stage(task.shard, STAGE, lambda: _records(task), KEYPOINT_SCHEMA)
