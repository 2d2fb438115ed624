"""The near-copy index's stage (``traindex nearcopy-index``): one catalog shard's images ->
one table of region hashes.

Same contract as ``keypoints.keypoint_shard``: a plain function of a picklable task (local
processes and Ray run it), written atomically to ``<release>/nearcopy/<shard>.parquet``, a
shard whose table exists is skipped (resumable), a bad image becomes a row with ``error``
set. Per image, ``regions`` holds the 12 region hashes of ``nearcopy.tiles`` in region
order, a flat region (PDQ quality below the floor) as null, so the list position is the
region number the index id packs. The driver adds the tables to the region index in shard
order (``catalog.indexes.tiles``), which makes the index the same whichever worker ran what.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa

from traindex.errors import InputError
from traindex.fingerprint.pdq import PdqFingerprinter
from traindex.jobs.stages import ShardResult, ShardTask, catalog_images, run_stage
from traindex.nearcopy.tiles import dataset_regions, decode_for_tiles

__all__ = ["STAGE", "TILE_SCHEMA", "tile_shard"]

STAGE = "nearcopy"
TILE_SCHEMA = pa.schema(
    [
        pa.field("row", pa.int64()),
        pa.field("key", pa.string()),
        pa.field("image", pa.string()),
        pa.field("regions", pa.list_(pa.binary(32))),
        pa.field("error", pa.string()),
    ]
)


def _records(task: ShardTask) -> Iterator[dict[str, object]]:
    hasher = PdqFingerprinter()
    for ref, row in catalog_images(task):
        record: dict[str, object] = {"row": row, "key": ref.key, "image": ref.name}
        try:
            pixels = decode_for_tiles(ref.data, ref.name, task.max_pixels)
        except InputError as exc:  # the fingerprint job records it too; here: no regions
            yield {**record, "error": str(exc)}
            continue
        regions = dataset_regions(pixels, hasher)
        yield {**record, "regions": [None if fp.low_quality else fp.digest for fp in regions]}


def tile_shard(task: ShardTask) -> ShardResult:
    """Hash the regions of one shard's images, or skip the shard if already done."""
    return run_stage(task, STAGE, lambda: _records(task), TILE_SCHEMA)
