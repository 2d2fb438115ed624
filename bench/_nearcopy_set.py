"""The near-copy benchmarks' shared evaluation set: a real training release and outputs.

Training release: 14 real photos, built as a user would (ingest, fingerprint, region
index) by ``tests/unit/nearcopy/edits.py``, which also holds the edit families that
simulate how generated images copy training images. Positives: every family x 14 photos
x ``seeds`` random draws (``draws`` sets another number for chosen families). Negatives
(``novel``): the 13 other photos, the 7 clip-retrieval test photos (two different kittens
among them), and random 60-95 % views of those 20; with ``pasted_negatives``, also
(``novel_pasted``) each of them pasted like ``pasted_random`` on another one's background:
the negatives of the keypoint search's own shape.
"""

from __future__ import annotations

import os
import runpy
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from PIL import Image

from traindex.config import Settings

__all__ = ["SHARED", "TRAINING", "edits", "evaluation_set", "training_release"]

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("TRAINDEX_SHARED_DATA") or ROOT.parent / "shared" / "data")
TRAINING = 14
W_H = "clip-retrieval/tests/test_clip_inference/test_images"


# tests/ is not a package: run the shared module and use its namespace
edits = SimpleNamespace(**runpy.run_path(str(ROOT / "tests" / "unit" / "nearcopy" / "edits.py")))


def training_release(
    work: Path, *, keypoints: bool = False
) -> tuple[Settings, list[tuple[str, Image.Image]], list[Image.Image]]:
    """Build the release under ``work`` (with ``keypoints``: fingerprinted with ORB points
    too); return settings, training photos, other photos."""
    photos = edits.real_photos(SHARED)
    settings = edits.build_release(
        work / "home", work / "images", photos[:TRAINING], keypoints=keypoints
    )
    others = [image for _, image in photos[TRAINING:]]
    others += [Image.open(p).convert("RGB") for p in sorted((SHARED / W_H).glob("*.jpg"))]
    return settings, photos[:TRAINING], others


def _view(photo: Image.Image, rng: np.random.Generator) -> Image.Image:
    share = float(rng.uniform(0.6, 0.95))
    w, h = round(photo.width * share), round(photo.height * share)
    x, y = int(rng.integers(0, photo.width - w + 1)), int(rng.integers(0, photo.height - h + 1))
    return photo.crop((x, y, x + w, y + h))


def evaluation_set(
    training: list[tuple[str, Image.Image]],
    others: list[Image.Image],
    seeds: int,
    *,
    draws: Mapping[str, int] | None = None,
    pasted_negatives: bool = False,
) -> list[tuple[str, str, bytes]]:
    """``(family, output name, JPEG bytes)``; families ``novel*`` are the negatives; a
    name ends ``@scale`` where the edit drew one (``pasted_random``). Each
    family draws from its own random stream, so changing one family's ``draws`` leaves
    the others' outputs as they were."""
    out = []
    for number, (family, edit) in enumerate(edits.EDITS.items()):
        rng = np.random.default_rng([2026, number])
        for seed in range((draws or {}).get(family, seeds)):
            for i, (name, photo) in enumerate(training):
                other = others[(i + seed) % len(others)]
                image = edit(photo, other, rng)
                scale = f"@{image.info['scale']:.2f}" if "scale" in image.info else ""
                out.append((family, f"{family}/{seed}/{name}{scale}", edits.jpeg(image, 80)))
    rng = np.random.default_rng(2026)
    for i, photo in enumerate(others):
        out.append(("novel", f"novel/{i}", edits.jpeg(photo, 80)))
        for seed in range(seeds):
            out.append(("novel", f"novel/{i}/view{seed}", edits.jpeg(_view(photo, rng), 80)))
    if pasted_negatives:
        for seed in range(seeds):
            for i, photo in enumerate(others):
                other = others[(i + 1 + seed) % len(others)]
                image = edits.pasted_random(photo, other, rng)
                out.append(("novel_pasted", f"novel_pasted/{seed}/{i}", edits.jpeg(image, 80)))
    return out
