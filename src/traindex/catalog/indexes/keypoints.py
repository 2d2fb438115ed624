"""Per-release keypoint storage: one table per catalog shard, one descriptor index.

``<release>/keypoints/<shard>.parquet`` (written by ``jobs.keypoints``) holds, per image,
its strongest ORB points (``points``: float16 x, y pairs; ``descriptors``: 32 bytes each,
same order) or the decode ``error``. ``<release>/keypoint_index/`` is a
:class:`~traindex.index.keypoints.KeypointIndex` whose owners are catalog locations
(``loc_of(shard, row)``), so a verified hit leads straight to the row.
``keypoints/indexed.json`` lists the tables already added, so indexing resumes; a crash
between the two writes re-adds a table, which verification tolerates (a stored point is
used once per query point, a duplicate only repeats the same pair).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from numpy.typing import NDArray

from traindex.catalog.locations import loc_of
from traindex.catalog.store import Release
from traindex.fingerprint.keypoints import DESCRIPTOR_BYTES
from traindex.index.keypoints import KeypointIndex

__all__ = [
    "KEYPOINT_DIR",
    "KEYPOINT_SCHEMA",
    "STAGE",
    "index_keypoints",
    "open_keypoints",
]

KEYPOINT_SCHEMA = pa.schema(
    [
        pa.field("row", pa.int64()),
        pa.field("key", pa.string()),
        pa.field("image", pa.string()),
        pa.field("count", pa.int32()),
        pa.field("points", pa.binary()),
        pa.field("descriptors", pa.binary()),
        pa.field("error", pa.string()),
    ]
)
KEYPOINT_DIR = "keypoint_index"
STAGE = "keypoints"


def open_keypoints(release: Release) -> KeypointIndex | None:
    """The release's keypoint index, or ``None`` if keypoints were never computed."""
    folder = release.dir / KEYPOINT_DIR
    return KeypointIndex(folder) if KeypointIndex.exists(folder) else None


def _table_arrays(
    release: Release, shard_id: int
) -> tuple[NDArray[np.uint8], NDArray[np.int64], NDArray[np.float16]]:
    """One table's descriptors ``(n, 32)``, owners ``(n,)`` and points ``(n, 2)``."""
    path = release.stage_table(STAGE, shard_id)
    table = pq.read_table(path, columns=["row", "count", "points", "descriptors"])
    table = table.filter(pc.fill_null(pc.greater(table.column("count"), 0), False))
    counts = table.column("count").to_numpy().astype(np.int64)
    rows = table.column("row").to_numpy().astype(np.int64)
    owners = np.repeat(np.array([loc_of(shard_id, int(r)) for r in rows], np.int64), counts)
    points = np.frombuffer(b"".join(table.column("points").to_pylist()), np.float16)
    descriptors = np.frombuffer(b"".join(table.column("descriptors").to_pylist()), np.uint8)
    return descriptors.reshape(-1, DESCRIPTOR_BYTES), owners, points.reshape(-1, 2)


def index_keypoints(release: Release) -> int:
    """Add every keypoint table not yet indexed; return the number of points added."""
    done = release.indexed(STAGE)
    todo = [s for s in release.stage_tables(STAGE) if s not in done]
    index = KeypointIndex(release.dir / KEYPOINT_DIR) if todo else None
    added = 0
    for shard_id in todo:
        descriptors, owners, points = _table_arrays(release, shard_id)
        if len(owners):
            assert index is not None
            index.add(descriptors, owners, points)
        added += len(owners)
        done.append(shard_id)
        release.mark_indexed(STAGE, done)
    return added
