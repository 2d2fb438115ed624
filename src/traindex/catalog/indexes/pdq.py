"""Per-release image indexes built from fingerprint shards.

``<release>/pdq/`` is a ``MultiIndexHashIndex`` whose ids are catalog locations
(shard << 40 | row), holding every fingerprinted image's PDQ hash and, where a border was
trimmed, the trimmed image's hash under the same id. Hashes below PDQ's quality floor are
not indexed: a flat image matches everything and proves nothing (exact SHA-256 still
finds it). ``keys/image_sha256/`` holds the SHA-256 of the stored image bytes.
``fingerprints/indexed.json`` lists the shards already added, so indexing resumes; a
crash between the two writes re-adds a shard, which search de-duplicates by id.
"""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq

from traindex.catalog.keys import KeySpiller
from traindex.catalog.locations import loc_of
from traindex.catalog.store import Release
from traindex.fingerprint.base import MIN_PDQ_QUALITY
from traindex.index.binary import MultiIndexHashIndex

__all__ = [
    "IMAGE_SHA256",
    "fingerprinted_shards",
    "index_fingerprints",
    "indexed_shards",
    "open_pdq",
]

IMAGE_SHA256 = "image_sha256"


def fingerprinted_shards(release: Release) -> list[int]:
    return release.stage_tables("fingerprints")


def indexed_shards(release: Release) -> list[int]:
    return release.indexed("fingerprints")


def open_pdq(release: Release) -> MultiIndexHashIndex | None:
    """The release's PDQ index (memory-mapped), or ``None`` before any fingerprinting."""
    folder = release.dir / "pdq"
    return MultiIndexHashIndex(folder) if (folder / "manifest.json").exists() else None


def _add_shard(release: Release, index: MultiIndexHashIndex, shard_id: int) -> int:
    table = pq.read_table(release.dir / "fingerprints" / f"{shard_id:05d}.parquet")
    good = pc.fill_null(pc.greater_equal(table.column("pdq_quality"), MIN_PDQ_QUALITY), False)
    usable = table.filter(good)
    hashes = [bytes(h) for h in usable.column("pdq").to_pylist()]
    ids = [loc_of(shard_id, int(r)) for r in usable.column("row").to_pylist()]
    trimmed = usable.filter(pc.is_valid(usable.column("pdq_trim")))
    hashes += [bytes(h) for h in trimmed.column("pdq_trim").to_pylist()]
    ids += [loc_of(shard_id, int(r)) for r in trimmed.column("row").to_pylist()]
    if hashes:
        index.add(hashes, np.asarray(ids, dtype=np.int64))
    spiller = KeySpiller(release.tmp_dir / f"fp-keys-{shard_id:05d}", fields=(IMAGE_SHA256,))
    for batch in table.select(["sha256", "row"]).to_batches():
        keys = batch.select(["sha256"]).rename_columns([IMAGE_SHA256])
        spiller.add(keys, 0, rows=np.asarray(batch.column("row").to_numpy(), dtype=np.int64))
    spiller.finish(release.keys_dir, shard_id)
    return len(hashes)


def index_fingerprints(release: Release) -> int:
    """Add every fingerprinted, not yet indexed shard; return the number of hashes added."""
    done = indexed_shards(release)
    todo = [s for s in fingerprinted_shards(release) if s not in done]
    if not todo:
        return 0
    index = MultiIndexHashIndex(release.dir / "pdq")
    added = 0
    for shard_id in todo:
        added += _add_shard(release, index, shard_id)
        done.append(shard_id)
        release.mark_indexed("fingerprints", done)
    return added
