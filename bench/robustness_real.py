"""The real path of ``bench/image_robustness.py``: catalog + fingerprint job + ImageSearch.

The rows are ingested as a dataset and fingerprinted by the job, first PDQ only, then with
``--keypoints``; ``ImageSearch`` answers each time. The keypoint pass searches with a loose
floor of agreeing points (3) and keeps every match's count, so one run gives the pairs
at every floor (``inlier_sweep``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from portfolio_search import folder_dataset
from robustness_data import FAMILIES
from traindex.catalog.store import Catalog
from traindex.core.match_evidence import ImageEvidence
from traindex.fingerprint.keypoints import KeypointOptions
from traindex.jobs.fingerprint import fingerprint
from traindex.search.images import ImageSearch
from traindex.search.keypoints import KeypointRules

if TYPE_CHECKING:
    from image_robustness import Corpus, Pairs

__all__ = ["Located", "at_floor", "inlier_sweep", "real_pairs"]

KEYPOINTS = KeypointOptions()

Located = dict[tuple[int, int], int | None]
"""(query, row) -> agreeing keypoints of a keypoint-only match, ``None`` for a PDQ match."""


def _ask(search: ImageSearch, corpus: Corpus) -> Located:
    names = {f"q{q:06d}": q for q in range(len(corpus.queries))}
    files = [(f"q{q:06d}", data) for q, (_, data) in enumerate(corpus.queries)]
    found: Located = {}
    for start in range(0, len(files), 256):
        result = search.search(files[start : start + 256], limit=100_000)
        for m in result.matches:
            evidence = m.evidence_as(ImageEvidence)
            points = evidence.inliers if evidence.variant == "keypoints" else None
            found[(names[m.query], int(str(m.key)[1:]))] = points
    return found


def real_pairs(corpus: Corpus, home: Path, workers: int) -> tuple[Pairs, Located]:
    """Ingest the rows as a dataset, fingerprint it with the job, ask ``ImageSearch``; then
    add keypoints (``fingerprint --keypoints``) and ask again with a loose inlier floor (3),
    so one run gives the pairs at every floor (``inlier_sweep``)."""
    rows: list[tuple[str, str, bytes | None]] = [
        (f"r{row:06d}", name, data) for row, (name, data) in enumerate(corpus.rows)
    ]
    settings = folder_dataset(home, rows)
    fingerprint(settings, "bench", images=home / "images", workers=workers)
    pdq_only = set(_ask(ImageSearch(Catalog(settings)), corpus))
    fingerprint(settings, "bench", images=home / "images", workers=workers, keypoints=KEYPOINTS)
    loose = KeypointRules(min_inliers=3, certain_inliers=3)
    return pdq_only, _ask(ImageSearch(Catalog(settings), keypoint_rules=loose), corpus)


def at_floor(located: Located, floor: int) -> Pairs:
    return {pair for pair, points in located.items() if points is None or points >= floor}


def inlier_sweep(corpus: Corpus, located: Located) -> list[dict[str, Any]]:
    """Recall per tier and false positives at each floor of agreeing keypoints."""
    wanted = {(q, r) for q, r, _ in corpus.units}
    tier = {f.name: f.tier for f in FAMILIES}
    false = [p for (pair, p) in located.items() if pair not in wanted and p is not None]
    rows = []
    for floor in (4, 6, 8, 10, 12, 15, 20, 30):
        found = at_floor(located, floor)
        row: dict[str, Any] = {"min inliers": floor}
        for name in ("mild", "hard"):
            units = [(q, r) for q, r, f in corpus.units if tier[f] == name]
            row[f"all {name}"] = f"{sum(u in found for u in units) / len(units):.3f}"
        row["false positives"] = len(found - wanted)
        row["most inliers of a false pair"] = max(false, default=0)
        rows.append(row)
    return rows
