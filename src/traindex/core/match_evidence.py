"""How a ``Match`` matched, one typed record per kind of evidence.

Each record's fields are named and ordered as the keys of ``traindex search --json``
(``to_json`` writes them flat into the match, after the row's own columns), so the JSON
contract is the one the string-keyed ``extra`` wrote; optional fields that were absent
there are left out when ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Literal

__all__ = [
    "FaceEvidence",
    "ImageEvidence",
    "IsccEvidence",
    "MatchEvidence",
    "Measure",
    "NearCopyEvidence",
    "SimilarEvidence",
    "UrlForm",
    "UrlFormEvidence",
    "Verdict",
    "evidence_type",
    "measure_of",
]


def _flat(record: Any, optional: frozenset[str]) -> dict[str, Any]:
    """The record's fields in order, without the optional ones that are ``None``."""
    out = {}
    for f in fields(record):
        value = getattr(record, f.name)
        if value is not None or f.name not in optional:
            out[f.name] = value
    return out


UrlForm = Literal["as_given", "other_scheme"]
Verdict = Literal["copy", "near_copy", "similar", "novel"]


@dataclass(frozen=True, slots=True)
class UrlFormEvidence:
    """An exact-URL or prefix match: which form of the query URL the row holds."""

    matched_url_form: UrlForm

    def to_json(self) -> dict[str, Any]:
        return {"matched_url_form": self.matched_url_form}


@dataclass(frozen=True, slots=True)
class ImageEvidence:
    """``same_file``/``same_image`` by SHA-256, PDQ (``distance``, ``variant``) and ORB
    keypoints (``inliers`` ... ``keypoint_rotation``); ``verified_by_download`` is the
    proof of a candidate whose downloaded pixels matched."""

    query: str
    query_sha256: str
    query_pdq: str | None
    threshold: int
    confidence: str | None
    explanation: str
    distance: int | None = None
    variant: str | None = None
    inliers: int | None = None
    min_inliers: int | None = None
    keypoint_scale: float | None = None
    keypoint_rotation: float | None = None
    verified_by_download: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"query": self.query, "query_sha256": self.query_sha256}
        data |= {"query_pdq": self.query_pdq, "threshold": self.threshold}
        if self.inliers is not None:  # keypoints first: PDQ's variant wins where both matched
            data |= {"inliers": self.inliers, "min_inliers": self.min_inliers}
            data |= {"keypoint_scale": self.keypoint_scale}
            data |= {"keypoint_rotation": self.keypoint_rotation, "variant": self.variant}
        if self.distance is not None:
            data |= {"distance": self.distance, "variant": self.variant}
        data |= {"confidence": self.confidence, "explanation": self.explanation}
        if self.verified_by_download is not None:
            data["verified_by_download"] = self.verified_by_download
        return data


@dataclass(frozen=True, slots=True)
class IsccEvidence:
    """``same_image`` by ISCC Image-Code distance."""

    query: str
    query_iscc: str
    iscc: str
    variant: Literal["iscc"]
    distance: int
    threshold: int
    explanation: str

    def to_json(self) -> dict[str, Any]:
        return _flat(self, frozenset())


@dataclass(frozen=True, slots=True)
class FaceEvidence:
    """``same_face``: the embedding distance and the dataset face it matched."""

    distance: float
    threshold: float
    confidence: str
    explanation: str
    face_box: dict[str, int]
    face_size: int
    face_source: str

    def to_json(self) -> dict[str, Any]:
        return _flat(self, frozenset())


@dataclass(frozen=True, slots=True)
class SimilarEvidence:
    """``similar`` by CLIP cosine; ``candidate_status`` for a candidate whose download
    did not prove it."""

    query: str
    cosine: float
    model: str
    explanation: str
    candidate_status: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"query": self.query, "cosine": self.cosine, "model": self.model}
        if self.candidate_status is not None:
            data["candidate_status"] = self.candidate_status
        data["explanation"] = self.explanation
        return data


@dataclass(frozen=True, slots=True)
class NearCopyEvidence:
    """A near-copy check's row: its verdict, the strongest numbers, the evidence list, the
    keypoints' region in the output and the output's name."""

    verdict: Verdict
    watermark_flag: bool
    tiles_matched: int
    distance: int | None = None
    cosine: float | None = None
    evidence: list[dict[str, Any]] = field(default_factory=list)
    keypoint_inliers: int | None = None
    region: dict[str, Any] | None = None
    output: str | None = None
    _OPTIONAL: ClassVar[frozenset[str]] = frozenset(
        {"distance", "cosine", "keypoint_inliers", "region", "output"}
    )

    def to_json(self) -> dict[str, Any]:
        return _flat(self, self._OPTIONAL)


MatchEvidence = (
    UrlFormEvidence | ImageEvidence | IsccEvidence | FaceEvidence | SimilarEvidence
    | NearCopyEvidence
)  # fmt: skip

_SIGNS: tuple[tuple[str, type[MatchEvidence]], ...] = (
    ("verdict", NearCopyEvidence),
    ("face_box", FaceEvidence),
    ("query_iscc", IsccEvidence),
    ("cosine", SimilarEvidence),
    ("query_sha256", ImageEvidence),
    ("matched_url_form", UrlFormEvidence),
)
"""A key only that kind of evidence writes (checked in order: a near-copy row may also
carry ``cosine``), to read match JSON back."""


def evidence_type(keys: set[str]) -> type[MatchEvidence] | None:
    """The kind of evidence a match JSON object with ``keys`` carries, if any."""
    return next((kind for sign, kind in _SIGNS if sign in keys), None)


@dataclass(frozen=True, slots=True)
class Measure:
    """The numbers any evidence may give, for wording a match whatever its kind."""

    distance: float | None = None
    threshold: float | None = None
    confidence: str | None = None
    explanation: str | None = None
    inliers: int | None = None
    min_inliers: int | None = None


def measure_of(evidence: MatchEvidence | None) -> Measure:
    """What ``evidence`` measured (``None`` where its kind has no such number)."""
    if isinstance(evidence, ImageEvidence):
        return Measure(
            evidence.distance, evidence.threshold, evidence.confidence, evidence.explanation,
            evidence.inliers, evidence.min_inliers,
        )  # fmt: skip
    if isinstance(evidence, FaceEvidence):
        return Measure(
            evidence.distance, evidence.threshold, evidence.confidence, evidence.explanation
        )
    if isinstance(evidence, IsccEvidence):
        return Measure(evidence.distance, evidence.threshold, explanation=evidence.explanation)
    if isinstance(evidence, SimilarEvidence):
        return Measure(explanation=evidence.explanation)
    if isinstance(evidence, NearCopyEvidence):
        return Measure(evidence.distance)
    return Measure()
