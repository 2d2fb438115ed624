"""Per-release readers shared by every kind of search, and ``Match`` construction.

A ``ReleaseView`` opens a release's key indexes, Parquet shards, caption index, PDQ index
and keypoint index lazily and keeps them; ``ViewCache`` hands out one view per release and
replaces it when the release changes (new shards ingested, new fingerprints or keypoints
indexed), so a long-running server sees new data without a restart.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from traindex.catalog.indexes.coverage import DOWNLOAD_STAGE, measure_release
from traindex.catalog.indexes.pdq import open_pdq
from traindex.catalog.keys import KeyIndex
from traindex.catalog.manifest import Manifest
from traindex.catalog.rows import ShardReader
from traindex.catalog.store import Catalog, Release
from traindex.catalog.text import TextIndex
from traindex.core.coverage import Coverage, ReleaseCoverage
from traindex.core.match_evidence import MatchEvidence
from traindex.core.matches import Match, MatchMethod
from traindex.index.base import RangeSearcher

if TYPE_CHECKING:
    from traindex.index.keypoints import KeypointSearcher

__all__ = [
    "ROW_COLUMNS", "KeypointOpener", "PdqOpener", "ReleaseView", "ViewCache", "coverage_of",
    "open_keypoint_index", "row_match",
]  # fmt: skip

PdqOpener = Callable[[Release], RangeSearcher | None]
"""Opens a release's PDQ index: on this disk (``open_pdq``) or held across a cluster
(``search.fanout``)."""
KeypointOpener = Callable[[Release], "KeypointSearcher | None"]
"""Opens a release's keypoint index, on this disk or held across a cluster, likewise."""


def open_keypoint_index(release: Release) -> KeypointSearcher | None:
    """The release's keypoint index on this disk, or ``None`` if it has no keypoints."""
    # Imported here: the keypoint index needs the images extra (faiss, OpenCV); URL and
    # caption search work without it.
    from traindex.catalog.indexes.keypoints import open_keypoints

    return open_keypoints(release)


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
        release.stage_tables(DOWNLOAD_STAGE),
        release.stage_tables("iscc"),  # scanned, not indexed: its tables are the stamp
    )


class ReleaseView:
    """Readers for one release, opened lazily and kept."""

    def __init__(
        self,
        release: Release,
        manifest: Manifest,
        pdq_opener: PdqOpener = open_pdq,
        keypoint_opener: KeypointOpener = open_keypoint_index,
    ) -> None:
        self.release = release
        self._open_pdq = pdq_opener
        self._open_keypoints = keypoint_opener
        self.manifest = manifest
        self.stamp = _stamp(release, manifest)
        self.shard_ids = [s.id for s in manifest.sources]
        self.relpaths = {s.id: s.relpath for s in manifest.sources}
        self.keys = KeyIndex(release.keys_dir)
        self.rows = ShardReader(release)
        self._coverage: dict[tuple[str, ...], ReleaseCoverage] = {}

    @cached_property
    def text(self) -> TextIndex:
        return TextIndex(self.release.text_dir)

    @cached_property
    def pdq(self) -> RangeSearcher | None:
        """The PDQ index, or ``None`` if the release was never fingerprinted."""
        return self._open_pdq(self.release)

    @cached_property
    def keypoints(self) -> KeypointSearcher | None:
        """The keypoint index, or ``None`` if the release has no keypoints."""
        return self._open_keypoints(self.release)

    def coverage(self, signals: tuple[str, ...]) -> ReleaseCoverage:
        """What ``signals`` cover in this release (measured once per view and signals)."""
        if signals not in self._coverage:
            self._coverage[signals] = measure_release(self.release, self.manifest, signals)
        return self._coverage[signals]

    def records(self, shard_id: int, rows: Sequence[int]) -> list[dict[str, Any]]:
        return self.rows.fetch(shard_id, list(rows), ROW_COLUMNS).to_pylist()  # type: ignore[no-any-return]


class ViewCache:
    """One ``ReleaseView`` per release, refreshed when the release changes."""

    def __init__(
        self,
        catalog: Catalog,
        pdq_opener: PdqOpener = open_pdq,
        keypoint_opener: KeypointOpener = open_keypoint_index,
    ) -> None:
        self.catalog = catalog
        self.pdq_opener = pdq_opener
        self.keypoint_opener = keypoint_opener
        self._views: dict[str, ReleaseView] = {}

    def select(self, dataset: str | None) -> list[ReleaseView]:
        views = []
        for release, manifest in self.catalog.select(dataset):
            key = str(release.dir)
            view = self._views.get(key)
            if view is None or view.stamp != _stamp(release, manifest):
                view = self._views[key] = ReleaseView(
                    release, manifest, self.pdq_opener, self.keypoint_opener
                )
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
