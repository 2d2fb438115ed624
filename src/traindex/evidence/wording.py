"""Each match method in plain words: what was compared, the number, the limit, how sure.

A report is read by people who do not know what BM25 or a Hamming distance is, so every
match carries three short phrases built here from the ``Match`` alone; the vocabulary is
DESIGN.md's ("exact URL", "same file", "same image", "same face", "similar").
"""

from __future__ import annotations

from dataclasses import dataclass

from traindex.core.match_evidence import measure_of
from traindex.core.matches import Match

__all__ = ["Wording", "describe"]

_PDQ_BITS = 256


@dataclass(frozen=True, slots=True)
class Wording:
    """``confidence`` is one word (certain, likely, review); ``explanation`` a sentence."""

    method: str
    measure: str
    threshold: str | None
    confidence: str
    explanation: str


def _distance_based(match: Match, name: str, unit: str) -> Wording:
    measured = measure_of(match.evidence)
    distance, threshold = measured.distance, measured.threshold
    label = measured.confidence or "review"
    measure = f"{unit} {distance}" if distance is not None else f"score {match.score:g}"
    limit = f"at most {threshold}" if threshold is not None else None
    sentence = measured.explanation or f"{label} match by {unit}"
    return Wording(name, measure, limit, label, sentence)


def _image(match: Match) -> Wording:
    if match.method == "same_file":
        return Wording(
            "same file",
            "SHA-256 of the bytes identical",
            "identical bytes",
            "certain",
            "the file's bytes are identical (SHA-256)",
        )
    wording = _distance_based(match, "same image", "PDQ distance")
    measured = measure_of(match.evidence)
    distance, inliers = measured.distance, measured.inliers
    if distance is None and inliers is not None:
        return Wording(
            "same image (keypoints)",
            f"{inliers} distinctive points agree under one scaling and rotation",
            f"at least {measured.min_inliers} points",
            wording.confidence,
            wording.explanation,
        )
    if distance is not None:
        wording = Wording(
            wording.method,
            f"PDQ distance {distance} of {_PDQ_BITS} bits",
            f"{measured.threshold} of {_PDQ_BITS} bits",
            wording.confidence,
            wording.explanation,
        )
    return wording


_EXACT = "exact key equality"
# Key lookups: the method, what equals what, and how far that proves the image is yours.
_KEYED = {
    "exact_url": Wording(
        "exact URL", "the row's URL equals the searched URL after normalisation", _EXACT,
        "certain", "the dataset points at this very URL",
    ),
    "url_prefix": Wording(
        "URL prefix", "the row's URL starts with the searched URL", _EXACT,
        "review", "the URL is certain; check that the image behind it is yours",
    ),
    "domain": Wording(
        "domain", "the row's image is hosted on the searched domain or a subdomain", _EXACT,
        "review", "the domain is certain; check which of its images are yours",
    ),
    "flickr_photo": Wording(
        "Flickr photo", "the row's URL carries the searched Flickr photo id", _EXACT,
        "certain", "the dataset points at this Flickr photo",
    ),
    "flickr_user": Wording(
        "Flickr account", "the dataset records the searched Flickr account", _EXACT,
        "certain", "the dataset attributes the row to this Flickr account",
    ),
}  # fmt: skip


def describe(match: Match) -> Wording:
    """The method name, the measure, the threshold and the confidence of one match."""
    if match.method in ("same_file", "same_image"):
        return _image(match)
    if match.method == "same_face":
        return _distance_based(match, "same face", "face distance")
    if match.method == "similar":
        return _distance_based(match, "similar (not necessarily your image)", "distance")
    if match.method == "text":
        terms = ", ".join(match.matched_terms) or "the searched words"
        return Wording(
            "caption text",
            f"caption contains {terms} (BM25 score {match.score:.2f})",
            None,
            "review",
            "the caption mentions the searched words; check whether the image is yours",
        )
    return _KEYED[match.method]
