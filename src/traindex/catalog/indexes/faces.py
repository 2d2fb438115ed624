"""Per-release face storage: one face table per catalog shard, one vector index over them.

``<release>/faces/<shard>.parquet`` (written by ``jobs.faces``) holds one row per face
found (embedded or skipped, with its box, size and detector score), and one ``face = -1``
row for an image without faces or, with ``error`` set, one that could not be read.
``<release>/face_index/`` is a :class:`~traindex.index.vectors.VectorIndex` (128-d,
Euclidean) whose id for a face is ``loc_of(shard, position of its row in the shard's face
table)``: the same
shard/row packing as catalog locations, so a hit leads to its face row (box) and from
there to the catalog row (URL, licence). ``faces/indexed.json`` lists the face tables
already added, so indexing resumes; a crash between the two writes re-adds a table,
which the vector index reports once per id.

Nothing here names anyone: the tables hold geometry and vectors, never identities.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from numpy.typing import NDArray

from traindex.catalog.locations import loc_of
from traindex.catalog.store import Release
from traindex.fingerprint.faces import EMBEDDING_DIM
from traindex.index.vectors import VectorIndex

__all__ = [
    "FACE_INDEX_DIR",
    "FACE_SCHEMA",
    "face_table_path",
    "face_tables",
    "index_faces",
    "open_face_index",
    "read_faces",
]

FACE_SCHEMA = pa.schema(
    [
        pa.field("row", pa.int64()),
        pa.field("key", pa.string()),
        pa.field("image", pa.string()),
        pa.field("face", pa.int16()),
        pa.field("left", pa.int32()),
        pa.field("top", pa.int32()),
        pa.field("right", pa.int32()),
        pa.field("bottom", pa.int32()),
        pa.field("size", pa.int32()),
        pa.field("quality", pa.float32()),
        pa.field("source", pa.string()),
        pa.field("embedding", pa.list_(pa.float32(), EMBEDDING_DIM)),
        pa.field("skipped", pa.string()),
        pa.field("error", pa.string()),
    ]
)
FACE_INDEX_DIR = "face_index"


def face_table_path(release_dir: Path, shard_id: int) -> Path:
    return Release(release_dir).stage_table("faces", shard_id)


def face_tables(release: Release) -> list[int]:
    """Catalog shards whose faces have been computed."""
    return release.stage_tables("faces")


def open_face_index(release: Release) -> VectorIndex | None:
    """The release's face index, memory-mapped, or ``None`` before any face was indexed."""
    folder = release.dir / FACE_INDEX_DIR
    return VectorIndex.open(folder) if (folder / "manifest.json").exists() else None


def _table_faces(release: Release, shard_id: int) -> tuple[NDArray[np.float32], list[int]]:
    """The embedded faces of one face table: ``(n, 128)`` vectors and their face ids."""
    table = pq.read_table(face_table_path(release.dir, shard_id), columns=["embedding"])
    positions = np.flatnonzero(pc.is_valid(table.column("embedding")).to_numpy(False))
    column = table.column("embedding").take(pa.array(positions, pa.int64())).combine_chunks()
    vectors = np.asarray(column.values.to_numpy(), dtype=np.float32)
    return vectors.reshape(-1, EMBEDDING_DIM), [loc_of(shard_id, int(p)) for p in positions]


def index_faces(release: Release) -> int:
    """Add every face table not yet indexed; return the number of faces added.

    Tables are batched into full index shards (one faiss call per shard and query, so
    few large shards beat one per catalog shard); ``indexed.json`` is updated after each
    committed batch.
    """
    done = release.indexed("faces")
    todo = [s for s in face_tables(release) if s not in done]
    if not todo:
        return 0
    index = VectorIndex.create(release.dir / FACE_INDEX_DIR, EMBEDDING_DIM, "l2", exist_ok=True)
    added = 0
    batch: list[tuple[NDArray[np.float32], list[int]]] = []
    pending: list[int] = []
    for position, shard_id in enumerate(todo):
        batch.append(_table_faces(release, shard_id))
        pending.append(shard_id)
        count = sum(len(ids) for _, ids in batch)
        if count >= index.shard_size or position == len(todo) - 1:
            if count:
                index.add(
                    np.concatenate([v for v, _ in batch]), [i for _, ids in batch for i in ids]
                )
            added += count
            done.extend(pending)
            release.mark_indexed("faces", done)
            batch, pending = [], []
    return added


def read_faces(release: Release, shard_id: int, positions: Sequence[int]) -> list[dict[str, Any]]:
    """Face rows (without embeddings) at ``positions`` of one shard's face table, in order."""
    columns = [n for n in FACE_SCHEMA.names if n != "embedding"]
    table = pq.read_table(face_table_path(release.dir, shard_id), columns=columns)
    return table.take(pa.array(list(positions), pa.int64())).to_pylist()  # type: ignore[no-any-return]
