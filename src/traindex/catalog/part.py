"""A part of one release's catalog: its key and caption look-ups over some of its shards.

What a cluster node answers for the catalog shards it holds (``search.fanout``): exact
values (URL, domain, Flickr ids, digests) from the key indexes and caption words from
the caption index, each answer restricted to the part's shards. Caption scores stay the
release's own BM25 scores (the caption index is one per release), so the answers of all
parts, merged by score, rank as the whole release does.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

from traindex.catalog.keys import KeyIndex, KeyRows
from traindex.catalog.store import Release
from traindex.catalog.text import TextHits, TextIndex

__all__ = ["CatalogPart", "shard_name"]


def shard_name(shard_id: int) -> str:
    """How a catalog shard is named where it is placed: its id as in ``samples/<id>.parquet``
    and the key index files."""
    return f"{shard_id:05d}"


class CatalogPart:
    """The look-ups of ``release_dir`` over ``shard_ids`` (default: every ingested shard)."""

    def __init__(self, release_dir: str | Path, shard_ids: Sequence[int] | None = None) -> None:
        self.release = Release(Path(release_dir))
        if shard_ids is None:
            shard_ids = [source.id for source in self.release.manifest().sources]
        self.shard_ids = list(shard_ids)
        self._held = frozenset(self.shard_ids)

    # Opened on first use: listing a part's shards (placement, unplaced shards) must not
    # open the release's caption index.
    @cached_property
    def keys(self) -> KeyIndex:
        return KeyIndex(self.release.keys_dir)

    @cached_property
    def text(self) -> TextIndex:
        return TextIndex(self.release.text_dir)

    @property
    def shard_names(self) -> list[str]:
        return [shard_name(s) for s in self.shard_ids]

    def restrict(self, names: Sequence[str]) -> CatalogPart:
        """The part holding only the shards named (``shard_name``)."""
        return CatalogPart(self.release.dir, [int(name) for name in names])

    def rows(self, field: str, values: Sequence[object], shard_ids: Sequence[int]) -> KeyRows:
        """``KeyIndex.rows`` over the wanted shards this part holds."""
        return self.keys.rows(field, values, [s for s in shard_ids if s in self._held])

    def text_search(self, query: str, limit: int) -> TextHits:
        """``TextIndex.search``'s first ``limit`` hits among this part's captions."""
        return self.text.search(query, limit, shards=self._held)
