"""Where ``search --verify-candidates`` gets the rows it downloads: metadata or CLIP.

A candidate is a row worth fetching, nothing more: it is listed as a match only after its
downloaded pixels prove it (``search.verify``). Two sources, both bounded by a total cap so
that one search never turns into a crawl:

* ``MetadataCandidates`` - the rows a metadata query picks (``--domain``, ``--url-prefix``,
  ``--flickr-user``, ``--text``), in dataset order;
* ``ClipCandidates`` - for every query file, its ``per_query`` nearest rows by the
  release's *published* CLIP image embeddings (LAION layout), embedded with the user's own
  CLIP export. The lists are merged rank by rank (every file's best neighbour before any
  file's second), so a portfolio larger than the cap still gets each file's best
  candidates rather than the first file's whole list. Each candidate remembers which files
  it neighbours and at what cosine: an unproven neighbour is reported as ``similar``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from traindex.catalog.locations import split_loc
from traindex.errors import InputError
from traindex.search.queries import Query
from traindex.search.service import SearchService
from traindex.search.views import ReleaseView

if TYPE_CHECKING:
    from traindex.search.similar import SimilarSearch

__all__ = ["Candidate", "CandidateSource", "ClipCandidates", "MetadataCandidates"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """One row to download and compare; ``neighbours`` are ``(query file, cosine)`` pairs
    of the files whose CLIP neighbour it is (empty for metadata candidates)."""

    view: ReleaseView
    shard_id: int
    position: int
    record: dict[str, Any]
    neighbours: tuple[tuple[str, float], ...] = ()


class CandidateSource(Protocol):
    """Picks at most ``cap`` candidates among ``views`` for the readable query ``files``."""

    def pick(
        self, views: list[ReleaseView], files: Sequence[tuple[str, bytes]], cap: int
    ) -> list[Candidate]: ...

    def describe(self) -> dict[str, Any]:
        """What picked the candidates, for the answer's ``candidates`` object."""
        ...


class MetadataCandidates:
    """The first rows, in dataset order, that a metadata query matches."""

    def __init__(self, query: Query, service: SearchService) -> None:
        self.query = query
        self.service = service

    def pick(
        self, views: list[ReleaseView], files: Sequence[tuple[str, bytes]], cap: int
    ) -> list[Candidate]:
        found: list[Candidate] = []
        for view in views:
            for sid, rows in sorted(self.service.positions(view, self.query).items()):
                take = rows[: cap - len(found)]
                for row, record in zip(take, view.records(sid, take), strict=True):
                    found.append(Candidate(view, sid, row, record))
        return found[:cap]

    def describe(self) -> dict[str, Any]:
        return {"source": "metadata", "kind": self.query.kind, "value": self.query.value}


_Key = tuple[int, int]  # (view index, catalog location)


class ClipCandidates:
    """Each file's ``per_query`` nearest rows by published CLIP embeddings."""

    def __init__(self, similar: SimilarSearch, per_query: int) -> None:
        self.similar = similar
        self.per_query = per_query
        self.unreached: list[str] = []  # index shards a fanned-out CLIP index lost

    def pick(
        self, views: list[ReleaseView], files: Sequence[tuple[str, bytes]], cap: int
    ) -> list[Candidate]:
        if not files:
            return []
        ranked = self._ranked(views, files)
        chosen: dict[_Key, list[tuple[str, float]]] = {}
        for rank in range(self.per_query):
            for (name, _), hits in zip(files, ranked, strict=True):
                if rank >= len(hits):
                    continue
                cosine, key = hits[rank]
                if key in chosen:
                    chosen[key].append((name, cosine))
                elif len(chosen) < cap:
                    chosen[key] = [(name, cosine)]
        return _records(views, chosen)

    def _ranked(
        self, views: list[ReleaseView], files: Sequence[tuple[str, bytes]]
    ) -> list[list[tuple[float, _Key]]]:
        """Per file, its ``per_query`` best ``(cosine, key)`` over all releases."""
        indexes = [(vi, self.similar.index(view)) for vi, view in enumerate(views)]
        usable = [(vi, index) for vi, index in indexes if index is not None]
        if not usable:
            names = ", ".join(f"{v.manifest.name}/{v.manifest.release}" for v in views)
            raise InputError(
                f"no selected release publishes CLIP image embeddings ({names or 'none'}); "
                "ingest one in the LAION layout (img_emb/*.npy + metadata/*.parquet) or pick "
                "candidates with --domain, --url-prefix, --flickr-user or --text"
            )
        vectors = self.similar.embed_files(files)
        ranked: list[list[tuple[float, _Key]]] = [[] for _ in files]
        for vi, index in usable:
            found, lost = index.search(vectors, self.per_query)
            release = f"{views[vi].manifest.name}/{views[vi].manifest.release}"
            self.unreached.extend(f"{release}:{shard}" for shard in lost)
            for qi, hits in enumerate(found):
                ranked[qi].extend((cosine, (vi, loc)) for loc, cosine in hits)
        return [sorted(hits, key=lambda h: (-h[0], h[1]))[: self.per_query] for hits in ranked]

    def describe(self) -> dict[str, Any]:
        described = {
            "source": "clip",
            "model": self.similar.encoder.config.model,
            "per_query": self.per_query,
        }
        if self.unreached:  # candidates there were not considered
            described["index_shards_not_searched"] = sorted(set(self.unreached))
        return described


def _records(
    views: list[ReleaseView], chosen: dict[_Key, list[tuple[str, float]]]
) -> list[Candidate]:
    """The chosen rows as candidates, in the order chosen (one read per shard)."""
    grouped: dict[tuple[int, int], list[_Key]] = defaultdict(list)
    for key in chosen:
        grouped[(key[0], split_loc(key[1])[0])].append(key)
    built: dict[_Key, Candidate] = {}
    for (vi, sid), keys in grouped.items():
        rows = [split_loc(loc)[1] for _, loc in keys]
        for key, row, record in zip(keys, rows, views[vi].records(sid, rows), strict=True):
            built[key] = Candidate(views[vi], sid, row, record, tuple(chosen[key]))
    return [built[key] for key in chosen]
