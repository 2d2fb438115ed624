"""Per-release readers shared by every kind of search, and ``Match`` construction.

A ``ReleaseView`` opens a release's key indexes, Parquet shards, caption index and image
indexes (PDQ, keypoints, faces, CLIP, near-copy regions) lazily and keeps them;
``ViewCache`` hands out one view per release and replaces it when the release changes
(new shards ingested, new fingerprints, keypoints, faces or regions indexed), so a
long-running server sees new data without a restart. How the image indexes are opened
(and the key and caption look-ups) is an ``IndexOpeners``: from this disk by default,
or held across a cluster (``search.fanout``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, Protocol

from traindex.catalog.indexes.coverage import DOWNLOAD_STAGE, measure_release
from traindex.catalog.indexes.pdq import open_pdq
from traindex.catalog.keys import KeyIndex, KeyRows
from traindex.catalog.manifest import Manifest
from traindex.catalog.rows import ShardReader
from traindex.catalog.store import Catalog, Release
from traindex.catalog.text import TextHits, TextIndex
from traindex.core.coverage import Coverage, ReleaseCoverage
from traindex.core.match_evidence import MatchEvidence
from traindex.core.matches import Match, MatchMethod
from traindex.index.base import RangeSearcher

if TYPE_CHECKING:
    from traindex.index.keypoints import KeypointSearcher
    from traindex.index.vector_hits import VectorSearcher

__all__ = [
    "ROW_COLUMNS", "CaptionSearcher", "IndexOpeners", "KeyLookup", "KeypointOpener",
    "PdqOpener", "ReleaseView", "VectorKind", "VectorOpener", "ViewCache", "coverage_of",
    "open_captions", "open_keypoint_index", "open_keys", "open_region_index",
    "open_vector_index", "row_match",
]  # fmt: skip

VectorKind = Literal["faces", "clip"]
PdqOpener = Callable[[Release], RangeSearcher | None]
"""Opens a release's PDQ index (or its near-copy region index, a PDQ index too): on this
disk (``open_pdq``) or held across a cluster (``search.fanout``)."""
KeypointOpener = Callable[[Release], "KeypointSearcher | None"]
"""Opens a release's keypoint index, on this disk or held across a cluster, likewise."""
VectorOpener = Callable[[Release, VectorKind], "VectorSearcher | None"]
"""Opens a release's face index or exact CLIP index, on this disk or across a cluster."""


class KeyLookup(Protocol):
    """Exact-value look-ups of a release (``KeyIndex``, or fanned out over a cluster)."""

    def rows(self, field: str, values: Sequence[object], shard_ids: Sequence[int]) -> KeyRows: ...


class CaptionSearcher(Protocol):
    """Caption search of a release (``TextIndex``, or fanned out over a cluster)."""

    def search(self, query: str, limit: int, offset: int = 0) -> TextHits: ...


def open_keys(release: Release) -> KeyLookup:
    """The release's key indexes on this disk."""
    return KeyIndex(release.keys_dir)


def open_captions(release: Release) -> CaptionSearcher:
    """The release's caption index on this disk."""
    return TextIndex(release.text_dir)


def open_keypoint_index(release: Release) -> KeypointSearcher | None:
    """The release's keypoint index on this disk, or ``None`` if it has no keypoints."""
    # Imported here: the keypoint index needs the images extra (faiss, OpenCV); URL and
    # caption search work without it.
    from traindex.catalog.indexes.keypoints import open_keypoints

    return open_keypoints(release)


def open_vector_index(release: Release, kind: VectorKind) -> VectorSearcher | None:
    """The release's face index or exact (flat) CLIP index on this disk, or ``None``."""
    # Imported here: vector indexes need faiss (the images extra)
    from traindex.catalog.indexes.faces import open_face_index
    from traindex.search.embeddings import open_flat_clip

    return open_face_index(release) if kind == "faces" else open_flat_clip(release)


def open_region_index(release: Release) -> RangeSearcher | None:
    """The release's near-copy region index on this disk, or ``None``."""
    from traindex.catalog.indexes.tiles import open_tiles

    return open_tiles(release)


@dataclass(frozen=True, slots=True)
class IndexOpeners:
    """How a view opens each index of a release."""

    pdq: PdqOpener = open_pdq
    keypoints: KeypointOpener = open_keypoint_index
    vectors: VectorOpener = open_vector_index
    regions: PdqOpener = open_region_index
    keys: Callable[[Release], KeyLookup] = open_keys
    captions: Callable[[Release], CaptionSearcher] = open_captions


ROW_COLUMNS: tuple[str, ...] = (
    "source_row", "key", "url", "caption", "license", "width", "height", "host", "domain",
    "flickr_photo_id", "flickr_owner", "punsafe", "pwatermark", "nsfw", "sha256", "md5",
)  # fmt: skip
_EXTRA = ("domain", "flickr_photo_id", "flickr_owner", "punsafe", "pwatermark")


def _stamp(release: Release, manifest: Manifest) -> tuple[object, ...]:
    return (
        manifest.updated_at,
        release.indexed_stamp("fingerprints"),
        release.indexed_stamp("keypoints"),
        release.indexed_stamp("faces"),
        release.indexed_stamp("nearcopy"),
        release.stage_tables(DOWNLOAD_STAGE),
        release.stage_tables("iscc"),  # scanned, not indexed: its tables are the stamp
    )


class ReleaseView:
    """Readers for one release, opened lazily and kept."""

    def __init__(
        self, release: Release, manifest: Manifest, openers: IndexOpeners | None = None
    ) -> None:
        self.release = release
        self.openers = openers or IndexOpeners()
        self._vectors: dict[VectorKind, VectorSearcher] = {}
        self.manifest = manifest
        self.stamp = _stamp(release, manifest)
        self.shard_ids = [s.id for s in manifest.sources]
        self.relpaths = {s.id: s.relpath for s in manifest.sources}
        self.keys = self.openers.keys(release)
        self.rows = ShardReader(release)
        self._coverage: dict[tuple[str, ...], ReleaseCoverage] = {}

    @cached_property
    def text(self) -> CaptionSearcher:
        return self.openers.captions(self.release)

    @cached_property
    def pdq(self) -> RangeSearcher | None:
        """The PDQ index, or ``None`` if the release was never fingerprinted."""
        return self.openers.pdq(self.release)

    @cached_property
    def keypoints(self) -> KeypointSearcher | None:
        """The keypoint index, or ``None`` if the release has no keypoints."""
        return self.openers.keypoints(self.release)

    @cached_property
    def regions(self) -> RangeSearcher | None:
        """The near-copy region index, or ``None`` if it was never built."""
        return self.openers.regions(self.release)

    def vectors(self, kind: VectorKind) -> VectorSearcher | None:
        """The face index or the exact CLIP index, or ``None`` while there is none (the
        CLIP index is built on first use, so only an opened one is kept)."""
        found = self._vectors.get(kind)
        if found is None:
            found = self.openers.vectors(self.release, kind)
            if found is not None:
                self._vectors[kind] = found
        return found

    def coverage(self, signals: tuple[str, ...]) -> ReleaseCoverage:
        """What ``signals`` cover in this release (measured once per view and signals)."""
        if signals not in self._coverage:
            self._coverage[signals] = measure_release(self.release, self.manifest, signals)
        return self._coverage[signals]

    def records(self, shard_id: int, rows: Sequence[int]) -> list[dict[str, Any]]:
        return self.rows.fetch(shard_id, list(rows), ROW_COLUMNS).to_pylist()  # type: ignore[no-any-return]


class ViewCache:
    """One ``ReleaseView`` per release, refreshed when the release changes."""

    def __init__(self, catalog: Catalog, openers: IndexOpeners | None = None) -> None:
        self.catalog = catalog
        self.openers = openers or IndexOpeners()
        self._views: dict[str, ReleaseView] = {}

    def select(self, dataset: str | None) -> list[ReleaseView]:
        views = []
        for release, manifest in self.catalog.select(dataset):
            key = str(release.dir)
            view = self._views.get(key)
            if view is None or view.stamp != _stamp(release, manifest):
                view = self._views[key] = ReleaseView(release, manifest, self.openers)
            views.append(view)
        return views


def coverage_of(views: Sequence[ReleaseView], signals: tuple[str, ...]) -> Coverage:
    """The coverage of an answer that used ``signals`` over ``views``."""
    return Coverage(signals, tuple(view.coverage(signals) for view in views))


def row_match(
    view: ReleaseView,
    shard_id: int,
    record: dict[str, Any],
    *,
    method: MatchMethod,
    score: float,
    matched_terms: tuple[str, ...] = (),
    evidence: MatchEvidence | None = None,
) -> Match:
    """A ``Match`` for one fetched catalog record, with full provenance."""
    details = {k: record[k] for k in _EXTRA if record.get(k) is not None}
    return Match(
        dataset=view.manifest.name,
        release=view.manifest.release,
        shard=view.relpaths[shard_id],
        row=int(record["source_row"]),
        url=record["url"],
        caption=record["caption"],
        license=record["license"],
        width=record["width"],
        height=record["height"],
        method=method,
        score=round(score, 4),
        key=record["key"],
        matched_terms=matched_terms,
        extra=details,
        evidence=evidence,
    )
