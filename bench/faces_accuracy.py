"""Issue 8 benchmark: verification accuracy of the face pipeline on the photos we have.

Ground truth is ``tests/unit/faces/people.json``: 16 distinct photos of 7 people from
../shared/data/face_recognition plus skimage's astronaut (resized copies and crops of one
photo are left out, so every pair is two different photos). Every pair is compared at
the default threshold (Euclidean distance 0.6) and at a few others:

- true match rate (same person, distance <= t) over the 14 genuine pairs;
- false match rate (different people, distance <= t) over the 106 impostor pairs;
- exact 95% (Clopper-Pearson) intervals, because with so few pairs "no error" is weak
  evidence: 0 of 14 bounds the miss rate only below ~23%.

The model's published figure is 99.38% accuracy on LFW (6,000 pairs, 10-fold); this set
is ~50x smaller and cannot confirm or refute it, only show nothing is broken.

    python bench/faces_accuracy.py
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import skimage.data
from numpy.typing import NDArray
from PIL import Image
from scipy.stats import beta  # type: ignore[import-untyped]

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from _common import emit
from traindex.fingerprint.faces import FaceFingerprinter

__all__ = ["load_photos", "main"]

REPO = Path(__file__).resolve().parent.parent
FACES = REPO.parent / "shared" / "data" / "face_recognition"
PEOPLE = REPO / "tests" / "unit" / "faces" / "people.json"
LFW_ACCURACY = 0.9938
THRESHOLDS = (0.5, 0.55, 0.6, 0.65)


def _astronaut() -> bytes:
    buffer = io.BytesIO()
    pixels = skimage.data.astronaut()  # type: ignore[no-untyped-call]
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def load_photos(include_duplicates: bool = True) -> list[tuple[str, bytes]]:
    """``(reference, bytes)`` of every photo in the face folder plus the astronaut; with
    ``include_duplicates=False`` byte-identical files appear once."""
    seen: set[str] = set()
    out = [("skimage:astronaut", _astronaut())]
    for path in sorted(FACES.rglob("*")):
        if path.suffix.lower() not in (".jpg", ".jpeg", ".png"):
            continue
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if include_duplicates or digest not in seen:
            out.append((str(path.relative_to(FACES)), data))
        seen.add(digest)
    return out


def _interval(hits: int, total: int) -> str:
    low = beta.ppf(0.025, hits, total - hits + 1) if hits else 0.0
    high = beta.ppf(0.975, hits + 1, total - hits) if hits < total else 1.0
    return f"{low:.3f}-{high:.3f}"


def _pair_distances(
    people: dict[str, list[str]],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Distances of every genuine (same person) and impostor pair of labelled photos."""
    photos = dict(load_photos())
    scanner = FaceFingerprinter()
    vectors: dict[str, tuple[str, NDArray[np.float32]]] = {}
    for person, refs in people.items():
        for ref in refs:
            [face] = scanner.scan(photos[ref], name=ref).embedded
            assert face.embedding is not None
            vectors[ref] = (person, face.embedding)
    genuine: list[float] = []
    impostor: list[float] = []
    for (_, (pa, a)), (_, (pb, b)) in itertools.combinations(vectors.items(), 2):
        (genuine if pa == pb else impostor).append(float(np.linalg.norm(a - b)))
    return np.array(genuine), np.array(impostor)


def main() -> None:
    people: dict[str, list[str]] = json.loads(PEOPLE.read_text())["people"]
    g, i = _pair_distances(people)
    rows: list[dict[str, Any]] = []
    for t in THRESHOLDS:
        true_hits, false_hits = int((g <= t).sum()), int((i <= t).sum())
        rows.append(
            {
                "threshold": t,
                "true match rate": true_hits / g.size,
                "TMR 95% CI": _interval(true_hits, g.size),
                "false match rate": false_hits / i.size,
                "FMR 95% CI": _interval(false_hits, i.size),
                "accuracy": (true_hits + i.size - false_hits) / (g.size + i.size),
            }
        )
    emit(
        "faces_accuracy",
        f"Face verification on {sum(map(len, people.values()))} photos of {len(people)} people "
        f"({g.size} genuine, {i.size} impostor pairs); published LFW accuracy {LFW_ACCURACY:.2%}",
        rows,
        {
            "photos": sum(map(len, people.values())),
            "people": len(people),
            "genuine_pairs": int(g.size),
            "impostor_pairs": int(i.size),
            "genuine_distance_max": float(g.max()),
            "genuine_distance_mean": float(g.mean()),
            "impostor_distance_min": float(i.min()),
            "impostor_distance_mean": float(i.mean()),
            "published_lfw_accuracy": LFW_ACCURACY,
        },
    )
    print(
        f"genuine distances: max {g.max():.3f}, mean {g.mean():.3f}; "
        f"impostor distances: min {i.min():.3f}, mean {i.mean():.3f}"
    )


if __name__ == "__main__":
    main()
