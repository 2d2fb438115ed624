"""Find my face: dataset rows whose photos show the same face as one query photo.

Contract, and why:

* **Exactly one face in the query.** The tool is for finding *yourself*; a group photo
  would search for strangers. Zero, several or only too-small faces raise
  :class:`FaceQueryError`, which lists how many faces were found and where, so the user
  can crop and retry.
* **same_face matches** are every dataset face within ``threshold`` (Euclidean distance
  between dlib embeddings; 0.6 is the model's published operating point, 99.38% on LFW),
  one match per dataset row (its nearest face), nearest first, each with the distance, the
  threshold, a confidence band and the dataset face's box.
* **No identity labels.** Matches carry provenance (dataset, release, shard, row, URL,
  licence) so the person can ask for removal, but not the row's caption or uploader:
  those can name whoever is in the photo, and a face search that answered with names
  would identify strangers, which this tool refuses to do.
* **The query is not kept.** The photo bytes and the embedding live only for the call;
  the result describes the query face by its box and size only.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from traindex.catalog.indexes.faces import read_faces
from traindex.catalog.locations import split_loc
from traindex.catalog.store import Catalog
from traindex.config import Settings
from traindex.core.coverage import Coverage
from traindex.core.match_evidence import FaceEvidence
from traindex.core.matches import Match
from traindex.errors import InputError
from traindex.fingerprint.faces import Face, FaceFingerprinter, FaceOptions
from traindex.index.vector_hits import VectorSearcher
from traindex.search.views import ReleaseView, ViewCache, coverage_of, row_match

__all__ = [
    "DEFAULT_FACE_BANDS",
    "DEFAULT_FACE_THRESHOLD",
    "FaceBand",
    "FaceQueryError",
    "FaceSearch",
    "FaceSearchResult",
    "face_distance",
]

DEFAULT_FACE_THRESHOLD = 0.6
_HIDDEN = ("flickr_owner", "author")  # uploader names: may name the person in the photo


def face_distance(match: Match) -> float:
    """The embedding distance of a ``same_face`` match."""
    return match.evidence_as(FaceEvidence).distance


@dataclass(frozen=True, slots=True)
class FaceBand:
    """Distances ``<= max_distance`` (and above the previous band) get ``label``."""

    label: str
    max_distance: float
    explanation: str


DEFAULT_FACE_BANDS: tuple[FaceBand, ...] = (
    FaceBand(
        "likely",
        0.45,
        "the faces agree closely; photos of one person usually measure here, but a "
        "twin or close relative can too: check the photo",
    ),
    FaceBand(
        "possible",
        DEFAULT_FACE_THRESHOLD,
        "within the model's match threshold but near it: look-alikes and relatives "
        "also land here; only you can tell if it is you",
    ),
)


class FaceQueryError(InputError):
    """The query photo does not show exactly one usable face; ``faces`` says what was found."""

    def __init__(self, message: str, faces: list[Face], name: str | None) -> None:
        super().__init__(message, path=name)
        self.faces = [face.describe() for face in faces]


def _where(face: Face) -> str:
    box = face.box
    return f"({box.left},{box.top})-({box.right},{box.bottom}), {face.size} px"


def _one_face(faces: list[Face], name: str | None, options: FaceOptions) -> Face:
    """The single usable face of a query photo, or a :class:`FaceQueryError` saying why."""
    usable = [f for f in faces if f.embedding is not None]
    if len(faces) == 1 and usable:
        return usable[0]
    if not faces:
        raise FaceQueryError(
            f"no face found in the photo ({options.detector} detector, upsample "
            f"{options.upsample}); use a sharp, frontal photo where your face is at least "
            f"{options.min_face} px across",
            faces,
            name,
        )
    boxes = "; ".join(_where(f) for f in faces)
    if len(faces) == 1:
        raise FaceQueryError(f"the one face found is too small: {faces[0].skipped}", faces, name)
    raise FaceQueryError(
        f"the photo must show exactly one face, {len(faces)} were found: {boxes}; "
        "crop the photo to your own face and search again",
        faces,
        name,
    )


@dataclass
class FaceSearchResult:
    """The same_face matches for one query face (described by geometry only)."""

    query_face: dict[str, Any]
    matches: list[Match]
    threshold: float
    dataset: str | None = None
    searched: list[str] = dataclasses.field(default_factory=list)
    """``NAME/RELEASE`` of every release that has a face index (the others were skipped)."""
    coverage: Coverage | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "query": {
                "kind": "face",
                "face": self.query_face,
                "dataset": self.dataset,
                "threshold": self.threshold,
            },
            "total": len(self.matches),
            "matches": [m.to_json() for m in self.matches],
            "searched_releases": self.searched,
            "coverage": self.coverage.to_json() if self.coverage is not None else None,
        }


class FaceSearch:
    """Search every release's face index for the one face in a query photo."""

    def __init__(
        self,
        catalog: Catalog,
        views: ViewCache | None = None,
        *,
        options: FaceOptions | None = None,
        threshold: float = DEFAULT_FACE_THRESHOLD,
        bands: tuple[FaceBand, ...] = DEFAULT_FACE_BANDS,
    ) -> None:
        if not 0 < threshold <= bands[-1].max_distance:
            raise ValueError(f"threshold must be in (0, {bands[-1].max_distance}], got {threshold}")
        self.views = views or ViewCache(catalog)
        self.fingerprinter = FaceFingerprinter(options)
        self.threshold = threshold
        self.bands = bands

    @classmethod
    def from_settings(cls, settings: Settings) -> FaceSearch:
        """Over the views ``settings`` give: fanned out where ``search_ray_address`` names
        a cluster a release's face index is placed on (``search.fanout.search_views``)."""
        from traindex.search.fanout import search_views

        catalog = Catalog(settings)
        return cls(catalog, search_views(catalog, settings))

    def query_face(self, data: bytes, *, name: str | None = None) -> Face:
        """The one face of a query photo (raises ``FaceQueryError`` / ``ImageDecodeError``)."""
        scan = self.fingerprinter.scan(data, name=name)
        return _one_face(scan.faces, name, self.fingerprinter.options)

    def search(
        self, data: bytes, *, name: str | None = None, dataset: str | None = None, limit: int = 100
    ) -> FaceSearchResult:
        """Rows whose faces are within the threshold of the query face, nearest first."""
        face = self.query_face(data, name=name)
        assert face.embedding is not None
        matches: list[Match] = []
        searched = []
        missed: list[str] = []
        views = self.views.select(dataset)
        for view in views:
            index = view.vectors("faces")
            if index is not None:
                release = f"{view.manifest.name}/{view.manifest.release}"
                searched.append(release)
                found, not_searched = self._search_view(view, index, face.embedding)
                matches.extend(found)
                missed.extend(f"{release}:{shard}" for shard in not_searched)
        matches.sort(key=lambda m: (face_distance(m), m.dataset, m.release, m.shard, m.row))
        coverage = coverage_of(views, ("faces",)).with_index_shards_lost(missed)
        return FaceSearchResult(
            face.describe(), matches[:limit], self.threshold, dataset, searched, coverage
        )

    def _search_view(
        self, view: ReleaseView, index: VectorSearcher, embedding: NDArray[np.float32]
    ) -> tuple[list[Match], tuple[str, ...]]:
        hits = index.range_search(embedding, self.threshold)
        by_shard: dict[int, list[tuple[int, float]]] = defaultdict(list)
        for loc, distance in zip(hits.ids.tolist(), hits.distances.tolist(), strict=True):
            shard_id, position = split_loc(loc)
            by_shard[shard_id].append((position, distance))
        matches: dict[tuple[int, int], Match] = {}
        for sid, found in by_shard.items():
            faces = read_faces(view.release, sid, [p for p, _ in found])
            records = view.records(sid, [int(f["row"]) for f in faces])
            for (_, distance), face, record in zip(found, faces, records, strict=True):
                key = (sid, int(face["row"]))
                if key not in matches or distance < face_distance(matches[key]):
                    matches[key] = self._match(view, sid, record, face, distance)
        return list(matches.values()), hits.not_searched

    def band(self, distance: float) -> FaceBand | None:
        """The confidence band of a distance, or ``None`` beyond the threshold."""
        if distance > self.threshold:
            return None
        return next(b for b in self.bands if distance <= b.max_distance)

    def _match(
        self,
        view: ReleaseView,
        sid: int,
        record: dict[str, Any],
        face: dict[str, Any],
        distance: float,
    ) -> Match:
        band = self.band(distance)
        assert band is not None
        evidence = FaceEvidence(
            distance=round(distance, 4),
            threshold=self.threshold,
            confidence=band.label,
            explanation=f"{band.label.capitalize()} same face (distance {distance:.2f}, "
            f"threshold {self.threshold}): {band.explanation}.",
            face_box={k: face[k] for k in ("left", "top", "right", "bottom")},
            face_size=face["size"],
            face_source=face["source"],
        )
        score = max(0.0, 1.0 - distance)
        match = row_match(view, sid, record, method="same_face", score=score, evidence=evidence)
        kept = {k: v for k, v in match.extra.items() if k not in _HIDDEN}
        return dataclasses.replace(match, caption=None, extra=kept)
