"""The one search entry: ``SearchService.search(query)`` for every kind of query.

The CLI, the web app and evidence reports call it; it hands image, face, CLIP and ISCC
queries to their specialised searches (created on first use, over the same release
views, so their extras are imported only when such a query comes) and answers the
metadata queries itself: URL, URL prefix, domain, Flickr photo/owner, caption text and
digests. It keeps per-release readers (memory-mapped key indexes, open Parquet shards,
Tantivy searchers) for its lifetime. Key lookups return rows in dataset order (release,
shard, row); text lookups return the best BM25 scores first. Every answer holds ``Match``
objects with provenance.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, overload

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from traindex.catalog.keys import KeyRows
from traindex.catalog.store import Catalog
from traindex.catalog.text import fold, query_terms
from traindex.core.coverage import CATALOG_SIGNAL, Coverage, ReleaseCoverage, cover_command
from traindex.core.match_evidence import UrlFormEvidence
from traindex.core.matches import Match, SearchResult
from traindex.errors import TraindexError
from traindex.search.queries import (
    FaceQuery,
    ImagePathsQuery,
    ImageQuery,
    IsccCodesQuery,
    Query,
    Resolved,
    SearchQuery,
    SimilarQuery,
    SimilarTextQuery,
    resolve,
)
from traindex.search.views import ReleaseView, ViewCache, row_match

if TYPE_CHECKING:
    from traindex.search.faces import FaceSearch, FaceSearchResult
    from traindex.search.image_results import ImageSearchResult
    from traindex.search.images import ImageSearch
    from traindex.search.iscc import IsccSearch
    from traindex.search.similar import SimilarSearch

__all__ = ["ImageLimits", "SearchService"]


@dataclass(frozen=True, slots=True)
class ImageLimits:
    """What image search decodes at most: pixels per image and bytes per file."""

    max_pixels: int
    max_file_bytes: int


@dataclass(frozen=True, slots=True)
class _Hit:
    order: int
    shard_id: int
    row: int
    score: float


@dataclass(frozen=True, slots=True)
class _Found:
    """One release's hits for a metadata query: their total, the first ones, and the
    catalog shards not reached (``catalog/<id>``)."""

    total: int
    hits: list[_Hit]
    not_searched: tuple[str, ...]


class SearchService:
    """Every kind of catalog search, with provenance, over one set of release views.

    The specialised searches are built when first needed, with their defaults except for
    ``image_limits`` (the web app's upload limits on decoded pixels and file bytes) and
    ``faces``, which gives a face search shared by several services (its model is large:
    ``bootstrap.Services`` loads it once per process).
    """

    def __init__(
        self,
        catalog: Catalog,
        views: ViewCache | None = None,
        *,
        image_limits: ImageLimits | None = None,
        faces: Callable[[], FaceSearch] | None = None,
    ) -> None:
        self.catalog = catalog
        self.views = views or ViewCache(catalog)
        self.image_limits = image_limits
        self._faces = faces

    @cached_property
    def images(self) -> ImageSearch:
        from traindex.search.images import ImageSearch

        limits = self.image_limits
        if limits is None:
            return ImageSearch(self.catalog, self.views)
        return ImageSearch(
            self.catalog, self.views, max_pixels=limits.max_pixels,
            max_file_bytes=limits.max_file_bytes,
        )  # fmt: skip

    @cached_property
    def faces(self) -> FaceSearch:
        if self._faces is not None:
            return self._faces()
        from traindex.search.faces import FaceSearch

        return FaceSearch(self.catalog, self.views)

    @cached_property
    def similar(self) -> SimilarSearch:
        """CLIP neighbours by the model of ``settings.clip_model_dir`` (raises
        ``ClipModelError`` saying how to set it when none is)."""
        from traindex.search.similar import SimilarSearch

        return SimilarSearch.from_settings(self.catalog.settings, views=self.views)

    @cached_property
    def iscc(self) -> IsccSearch:
        from traindex.search.iscc import IsccSearch

        return IsccSearch(self.catalog, self.views)

    @overload
    def search(
        self, query: Query | SimilarQuery | SimilarTextQuery | IsccCodesQuery, *,
        dataset: str | None = None, limit: int = 20, offset: int = 0,
    ) -> SearchResult: ...  # fmt: skip

    @overload
    def search(
        self, query: ImageQuery | ImagePathsQuery, *, dataset: str | None = None,
        limit: int = 20, offset: int = 0,
    ) -> ImageSearchResult: ...  # fmt: skip

    @overload
    def search(
        self, query: FaceQuery, *, dataset: str | None = None, limit: int = 20, offset: int = 0
    ) -> FaceSearchResult: ...

    def search(
        self, query: SearchQuery, *, dataset: str | None = None, limit: int = 20, offset: int = 0
    ) -> SearchResult | ImageSearchResult | FaceSearchResult:
        """Matches for ``query`` over all releases (or ``dataset``): at most ``limit`` per
        page for metadata, CLIP and ISCC queries, at most ``limit`` per query file for
        image and face queries. ``offset`` pages metadata and ISCC answers only."""
        if offset and not isinstance(query, Query | IsccCodesQuery):
            raise ValueError(f"{type(query).__name__} answers are not paged: offset must be 0")
        match query:
            case Query():
                return self._metadata(query, dataset, limit, offset)
            case ImageQuery(files):
                return self.images.search(files, dataset=dataset, limit=limit)
            case ImagePathsQuery(paths, on_progress):
                return self.images.search_paths(
                    paths, dataset=dataset, limit=limit, on_progress=on_progress
                )
            case FaceQuery(data, name):
                return self.faces.search(data, name=name, dataset=dataset, limit=limit)
            case SimilarQuery(files):
                return self.similar.search_images(files, dataset=dataset, limit=limit)
            case SimilarTextQuery(text):
                return self.similar.search_text(text, dataset=dataset, limit=limit)
            case IsccCodesQuery(codes, kind, value):
                described = {"kind": kind, "value": value}
                return self.iscc.search(
                    codes, query=described, dataset=dataset, limit=limit, offset=offset
                )

    def _metadata(self, query: Query, dataset: str | None, limit: int, offset: int) -> SearchResult:
        """One page of matches for a metadata query."""
        resolved = resolve(query)
        views = self.views.select(dataset)
        per_view = [self._hits(view, resolved, limit + offset) for view in views]
        total = sum(found.total for found in per_view)
        merged = [(v, h) for v, found in zip(views, per_view, strict=True) for h in found.hits]
        if resolved.field is None:
            merged.sort(key=lambda vh: -vh[1].score)
        page = merged[offset : offset + limit]
        matches = self._matches(page, resolved)
        missed = [found.not_searched for found in per_view]
        described: dict[str, Any] = {**resolved.to_json(), "dataset": dataset}
        described.update(limit=limit, offset=offset, searched=_searched(views, missed))
        return SearchResult(
            query=described, matches=matches, total=total, coverage=_lost(views, missed)
        )

    def positions(self, view: ReleaseView, query: Query) -> dict[int, list[int]]:
        """Every row of one release matching ``query``, as catalog positions per shard (no
        page limit): how ``fingerprint --download`` fetches only a creator's candidates."""
        found: dict[int, list[int]] = defaultdict(list)
        for hit in self._every_hit(view, resolve(query)):
            found[hit.shard_id].append(hit.row)
        return dict(found)

    def matches_in(
        self, view: ReleaseView, query: Query, shard_ids: Collection[int]
    ) -> list[Match]:
        """Every match of ``query`` in these shards of one release (no page limit): what a
        watch compares when a release gains new shards (``traindex.watch``)."""
        resolved = resolve(query)
        hits = self._every_hit(view, resolved)
        return self._matches([(view, h) for h in hits if h.shard_id in shard_ids], resolved)

    def _every_hit(self, view: ReleaseView, resolved: Resolved) -> list[_Hit]:
        """Every hit in the release; a look-up that could not reach some catalog shards
        raises (these callers act on the whole list, never on a part taken for it)."""
        found = self._hits(view, resolved, max(view.manifest.rows, 1))
        lost = _lost([view], [found.not_searched])
        if lost is not None:
            [release] = lost.releases
            raise TraindexError(
                f"{release.name}: {release.describe(lost.signals)}; to cover the rest: "
                f"{cover_command(release, lost.signals)}"
            )
        return found.hits

    def _hits(self, view: ReleaseView, resolved: Resolved, want: int) -> _Found:
        if resolved.field is None:
            text = view.text.search(resolved.query.value, limit=max(want, 1))
            known = set(view.shard_ids)
            ranked = [
                _Hit(i, h.shard_id, h.row, h.score)
                for i, h in enumerate(text.hits)
                if h.shard_id in known
            ]
            return _Found(text.total, ranked, text.not_searched)
        keyed = _key_rows(view, resolved)
        found = keyed.found
        if resolved.host is not None or resolved.prefix is not None:
            found = {sid: self._filtered(view, sid, rows, resolved) for sid, rows in found.items()}
        total = sum(len(rows) for rows in found.values())
        hits: list[_Hit] = []
        for sid in sorted(found):
            if len(hits) >= want:
                break
            hits.extend(_Hit(0, sid, int(r), 1.0) for r in found[sid][: want - len(hits)])
        return _Found(total, hits, keyed.not_searched)

    @staticmethod
    def _filtered(
        view: ReleaseView, sid: int, rows: npt.NDArray[np.int64], resolved: Resolved
    ) -> npt.NDArray[np.int64]:
        table = view.rows.fetch(sid, rows.tolist(), ["url", "host"])
        if resolved.prefix is not None:
            mask = pc.starts_with(table.column("url"), resolved.prefix)
            if resolved.other_scheme is not None:
                other = pc.starts_with(table.column("url"), resolved.other_scheme)
                mask = pc.or_(mask, other)
        else:
            host = pa.scalar(resolved.host or "")
            suffix = "." + (resolved.host or "")
            mask = pc.or_(
                pc.equal(table.column("host"), host), pc.ends_with(table.column("host"), suffix)
            )
        kept: npt.NDArray[np.int64] = rows[np.asarray(mask.to_pylist(), dtype=bool)]
        return kept

    def _matches(self, page: list[tuple[ReleaseView, _Hit]], resolved: Resolved) -> list[Match]:
        grouped: dict[tuple[int, int], list[int]] = defaultdict(list)
        views = {id(v): v for v, _ in page}
        for pos, (view, hit) in enumerate(page):
            grouped[(id(view), hit.shard_id)].append(pos)
        built: dict[int, Match] = {}
        for (vid, sid), positions in grouped.items():
            view = views[vid]
            records = view.records(sid, [page[p][1].row for p in positions])
            for pos, record in zip(positions, records, strict=True):
                match = _match(view, sid, record, page[pos][1].score, resolved)
                if match is not None:
                    built[pos] = match
        return [built[p] for p in sorted(built)]


def _searched(views: list[ReleaseView], missed: list[tuple[str, ...]]) -> list[dict[str, Any]]:
    """The releases this answer compared and their rows: "not found" covers those. A
    release whose catalog shards a fanned-out look-up did not reach also says how many
    rows were compared (``rows_searched``; the JSON is otherwise as it always was)."""
    searched: list[dict[str, Any]] = []
    for view, lost in zip(views, missed, strict=True):
        entry = {
            "dataset": view.manifest.name,
            "release": view.manifest.release,
            "rows": view.manifest.rows,
        }
        if lost:
            entry["rows_searched"] = view.manifest.rows - _rows_of(view, lost)
        searched.append(entry)
    return searched


def _lost(views: list[ReleaseView], missed: list[tuple[str, ...]]) -> Coverage | None:
    """The coverage of a metadata answer that could not reach some catalog shards (their
    cluster node was lost); ``None`` when it saw every ingested row, as usual."""
    if not any(missed):
        return None
    releases = tuple(
        ReleaseCoverage(
            v.manifest.name,
            v.manifest.release,
            v.manifest.rows,
            covered={CATALOG_SIGNAL: v.manifest.rows - _rows_of(v, lost)},
            shards=len(v.shard_ids),
            index_shards_lost=lost,
        )
        for v, lost in zip(views, missed, strict=True)
    )
    return Coverage((CATALOG_SIGNAL,), releases)


def _rows_of(view: ReleaseView, labels: tuple[str, ...]) -> int:
    """The rows of the catalog shards named ``catalog/<id>``."""
    ids = {int(label.rpartition("/")[2]) for label in labels}
    return sum(s.rows for s in view.manifest.sources if s.id in ids)


def _key_rows(view: ReleaseView, resolved: Resolved) -> KeyRows:
    """Shard id -> sorted candidate rows; an exact URL is looked up in both schemes."""
    assert resolved.field is not None
    assert resolved.key is not None
    keys = resolved.url_keys if resolved.method == "exact_url" else (resolved.key,)
    return view.keys.rows(resolved.field, keys, view.shard_ids)


def _match(
    view: ReleaseView, sid: int, record: dict[str, Any], score: float, resolved: Resolved
) -> Match | None:
    wanted = resolved.url_keys if resolved.method == "exact_url" else (resolved.key,)
    if resolved.field is not None and str(record[resolved.field]) not in wanted:
        return None  # a 64-bit hash collision: not this value
    terms: tuple[str, ...] = ()
    if resolved.field is None:
        caption_terms = set(fold(record["caption"] or ""))
        terms = tuple(t for t in query_terms(resolved.query.value) if t in caption_terms)
    form = resolved.url_form(record["url"])
    return row_match(
        view,
        sid,
        record,
        method=resolved.method,
        score=score,
        matched_terms=terms,
        evidence=UrlFormEvidence(form) if form is not None else None,
    )
