"""Issue 3 benchmark: is a transformed copy still found, and is nothing else ever found?

Real photos (the 18 CC-BY-2.0 Flickr photos, the clip-retrieval and CC12M samples and two
C2PA sample photos under ``../shared/data``, plus scikit-image / scikit-learn photos) are
edited with AugLy (``augly.image``, installed without its ``[image]`` extra): 19 transform
families, 54 edits per photo. ``meme_format`` is broken with Pillow >= 10
(``FreeTypeFont.getsize_multiline`` is gone), so it is reproduced with Pillow below, with
AugLy's own layout, colours and font. Distractors are ~3,000 non-overlapping 80-px tiles of
*other* large real photos (face_recognition's photos and large scikit-image images), so
any hit on them is a false positive.

Both directions, in one run, on the same files:

* ``dataset has the copy`` (what a photographer asks): dataset = every edited copy + the
  tiles, hashed as the fingerprint job does (PDQ + PDQ of the border-trimmed image); query
  = the original file, with traindex's ~57 query variants (the 1-degree grid of cropped
  rotations looked up at radius 21, the rest at 31, as ``ImageSearch`` does);
* ``dataset has the original`` (DISC21's direction): dataset = originals + tiles; query =
  each edited copy, with its variants.

Compared: traindex (variants + dataset-side trim), the same with variant families added one
at a time (ablation), plain single-hash PDQ (``pdqhash`` on the decoded pixels) and
imagehash pHash at its usual threshold (<= 10 of 64 bits). traindex's figures come from the
real path: a catalog is ingested, ``traindex.jobs.fingerprint`` fingerprints it, and
``ImageSearch.search`` answers; the hash-level ablation is checked to give the same pairs.

    python bench/image_robustness.py [--tile 80] [--workers 2]
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import imagehash
import numpy as np
import pdqhash
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from _common import emit
from robustness_data import FAMILIES, encode, originals, unique_tiles
from robustness_real import at_floor, inlier_sweep, real_pairs
from traindex.fingerprint.hashing import DATASET_PLAN, decode_for_hashing
from traindex.fingerprint.pdq import DIHEDRAL_NAMES, PdqFingerprinter
from traindex.fingerprint.variants import DEFAULT_PLAN, query_variants
from traindex.index.binary import MultiIndexHashIndex
from traindex.search.images import searchable
from traindex.search.keypoints import KeypointRules
from traindex.search.thresholds import Thresholds

__all__ = ["main"]

THRESHOLDS = Thresholds()
RADIUS = THRESHOLDS.radius
PHASH_RADIUS = 10
MAX_PIXELS = 100_000_000
HASHER = PdqFingerprinter()


@dataclass
class Corpus:
    """Dataset rows and queries of one direction, and which (query, row) pairs are true."""

    rows: list[tuple[str, bytes]]
    queries: list[tuple[str, bytes]]

    units: list[tuple[int, int, str]]
    """Every (query, row) pair that must be found, with the family of its edited side."""
    family_of: dict[tuple[str, int], str]
    """("q" or "r", index) -> family, for the edited side of each unit."""

    def family(self, query: int, row: int) -> str:
        """Which family a false hit is charged to: that of its edited side, else ``tiles``."""
        return self.family_of.get(("r", row)) or self.family_of.get(("q", query)) or "tiles"


def make_copies(photos: list[tuple[str, Image.Image]]) -> list[tuple[int, str, str, bytes]]:
    """(photo index, family, label, JPEG q90 bytes) for every edit of every photo."""
    rng = np.random.default_rng(3)
    out = []
    for index, (_, photo) in enumerate(photos):
        for family in FAMILIES:
            for label, edit in family.edits:
                out.append((index, family.name, label, encode(edit(photo, rng))))
    return out


def corpora(
    photos: list[tuple[str, Image.Image]], distractors: list[tuple[str, Image.Image]]
) -> dict[str, Corpus]:
    copies = make_copies(photos)
    originals = [(name, encode(photo, 95)) for name, photo in photos]
    tile_rows = [(name, encode(tile, 85)) for name, tile in distractors]
    copy_rows = [(f"{photos[i][0]} | {fam} | {label}", data) for i, fam, label, data in copies]
    has_copy = Corpus(
        rows=copy_rows + tile_rows,
        queries=originals,
        units=[(i, r, fam) for r, (i, fam, _, _) in enumerate(copies)],
        family_of={("r", r): fam for r, (_, fam, _, _) in enumerate(copies)},
    )
    has_original = Corpus(
        rows=originals + tile_rows,
        queries=copy_rows,
        units=[(q, i, fam) for q, (i, fam, _, _) in enumerate(copies)],
        family_of={("q", q): fam for q, (_, fam, _, _) in enumerate(copies)},
    )
    return {"dataset has the copy": has_copy, "dataset has the original": has_original}


# ---- hashing (module-level functions: they run in worker processes) -------------------------


def dataset_side(data: bytes) -> tuple[bytes, int, bytes | None]:
    """What the fingerprint job stores: PDQ, its quality, and the trimmed image's PDQ."""
    decoded = decode_for_hashing(data, "row", MAX_PIXELS)
    hashes = {fp.variant: fp for fp in query_variants(decoded.image, HASHER, DATASET_PLAN)}
    trim = hashes.get("trim")
    original = hashes["original"]
    return original.digest, int(original.quality or 0), trim.digest if trim else None


def query_side(data: bytes) -> list[tuple[str, bytes]]:
    """The query's usable variants, exactly as ``ImageSearch`` computes them."""
    decoded = decode_for_hashing(data, "query", MAX_PIXELS)
    variants = searchable(query_variants(decoded.image, HASHER, DEFAULT_PLAN))
    return [(v.variant, v.digest) for v in variants]


def baselines(data: bytes) -> tuple[bytes, int, bytes]:
    """Plain PDQ (pdqhash on the decoded pixels, one hash) and imagehash pHash."""
    with Image.open(io.BytesIO(data)) as image:
        rgb = image.convert("RGB")
    bits, quality = pdqhash.compute(np.ascontiguousarray(np.asarray(rgb)))
    phash = imagehash.phash(rgb).hash.flatten()
    return np.packbits(bits.astype(np.uint8)).tobytes(), int(quality), np.packbits(phash).tobytes()


Pairs = set[tuple[int, int]]


def _brute(queries: list[bytes], rows: list[bytes], radius: int) -> Pairs:
    q = np.frombuffer(b"".join(queries), np.uint8).reshape(len(queries), -1).view(np.uint64)
    r = np.frombuffer(b"".join(rows), np.uint8).reshape(len(rows), -1).view(np.uint64)
    found: Pairs = set()
    for qi in range(q.shape[0]):
        distance = np.bitwise_count(r ^ q[qi]).sum(axis=1)
        found.update((qi, int(ri)) for ri in np.flatnonzero(distance <= radius))
    return found


def baseline_pairs(
    corpus: Corpus, hashed: dict[bytes, tuple[bytes, int, bytes]]
) -> dict[str, Pairs]:
    """Found pairs of the two baselines; low-quality plain PDQ hashes are dropped as in
    traindex (a flat tile would otherwise match every flat tile)."""
    rows = [hashed[data] for _, data in corpus.rows]
    queries = [hashed[data] for _, data in corpus.queries]
    good_rows = [i for i, r in enumerate(rows) if r[1] >= 50]
    pdq = _brute([q[0] for q in queries], [rows[i][0] for i in good_rows], RADIUS)
    phash = _brute([q[2] for q in queries], [r[2] for r in rows], PHASH_RADIUS)
    return {
        "plain PDQ, 1 hash (pdqhash on full pixels)": {(q, good_rows[r]) for q, r in pdq},
        f"imagehash pHash (<= {PHASH_RADIUS} of 64 bits)": phash,
    }


ABLATION: tuple[tuple[str, Callable[[str, bool], bool]], ...] = (
    ("traindex PDQ, 1 hash", lambda v, trim: v == "original" and not trim),
    ("+ dihedral (8)", lambda v, trim: v in DIHEDRAL_NAMES and not trim),
    (
        "+ aspect crops",
        lambda v, trim: not trim and (v in DIHEDRAL_NAMES or v.startswith("aspect")),
    ),
    ("+ crop grid", lambda v, trim: not trim and not v.startswith(("rotate", "trim"))),
    ("+ rotations", lambda v, trim: not trim and v != "trim"),
    ("+ trim, both sides (= traindex)", lambda v, trim: True),
)


def variant_pairs(
    corpus: Corpus,
    stored: dict[bytes, tuple[bytes, int, bytes | None]],
    variants: dict[bytes, list[tuple[str, bytes]]],
) -> dict[str, Pairs]:
    """Found pairs per ablation step, from one range search of every query variant."""
    hashes, ids = [], []
    for row, (_, data) in enumerate(corpus.rows):
        pdq, quality, trim = stored[data]
        if quality >= 50:  # what catalog_index indexes
            hashes.append(pdq)
            ids.append(2 * row)
            if trim is not None:
                hashes.append(trim)
                ids.append(2 * row + 1)
    index = MultiIndexHashIndex()
    index.add(hashes, np.asarray(ids, np.int64))
    groups: dict[int, list[tuple[int, str, bytes]]] = defaultdict(list)
    for q, (_, data) in enumerate(corpus.queries):
        for name, digest in variants[data]:
            groups[THRESHOLDS.variant_radius(name)].append((q, name, digest))
    found: dict[str, Pairs] = {name: set() for name, _ in ABLATION}
    for radius, owners in groups.items():  # as ImageSearch: one batch per lookup radius
        hits = index.search([d for _, _, d in owners], radius, workers=os.cpu_count() or 1)
        for v, i in zip(hits.query.tolist(), hits.ids.tolist(), strict=True):
            query, variant, _ = owners[v]
            for name, keep in ABLATION:
                if keep(variant, bool(i & 1)):
                    found[name].add((query, i >> 1))
    return found


def nearest(
    corpus: Corpus,
    stored: dict[bytes, tuple[bytes, int, bytes | None]],
    variants: dict[bytes, list[tuple[str, bytes]]],
) -> np.ndarray:
    """``D[q, r]``: smallest distance between any variant of query q and any indexed hash of
    row r (brute force, so a wider radius than the index's design radius can be studied).
    A cropped rotation's distance counts ``RADIUS - rotation_grid_radius`` more, so
    ``D <= R`` means "found if the radius were R and the grid radius moved with it"."""
    keys, hashes = [], []
    for row, (_, data) in enumerate(corpus.rows):
        pdq, quality, trim = stored[data]
        if quality >= 50:
            keys += [row] * (1 + (trim is not None))
            hashes += [pdq] + ([trim] if trim is not None else [])
    table = np.frombuffer(b"".join(hashes), np.uint8).reshape(-1, 32).view(np.uint64)
    owner = np.asarray(keys)
    out = np.full((len(corpus.queries), len(corpus.rows)), 256, np.int16)
    for q, (_, data) in enumerate(corpus.queries):
        digests = b"".join(d for _, d in variants[data])
        if not digests:
            continue
        batch = np.frombuffer(digests, np.uint8).reshape(-1, 32).view(np.uint64)
        extra = [RADIUS - THRESHOLDS.variant_radius(name) for name, _ in variants[data]]
        dist = np.bitwise_count(batch[:, None, :] ^ table[None, :, :]).sum(axis=2)
        dist = (dist + np.asarray(extra)[:, None]).min(axis=0)
        np.minimum.at(out[q], owner, dist.astype(np.int16))
    return out


def radius_sweep(corpus: Corpus, distances: np.ndarray) -> list[dict[str, Any]]:
    """Recall per tier and false positives if the match radius were wider than 31."""
    tier = {f.name: f.tier for f in FAMILIES}
    truth = np.zeros(distances.shape, bool)
    for q, r, _ in corpus.units:
        truth[q, r] = True
    rows = []
    for radius in (31, 36, 40, 44, 48, 56):
        row: dict[str, Any] = {"radius": radius}
        for name in ("mild", "hard"):
            units = [(q, r) for q, r, f in corpus.units if tier[f] == name]
            row[f"recall {name}"] = float(np.mean([distances[u] <= radius for u in units]))
        row["false positives"] = int(((distances <= radius) & ~truth).sum())
        rows.append(row)
    rows.append({"radius": "nearest false pair", "false positives": int(distances[~truth].min())})
    return rows


# ---- scoring and output -----------------------------------------------------------------------


def score(corpus: Corpus, methods: dict[str, Pairs]) -> list[dict[str, Any]]:
    """Recall per family (and tier) and false positives, per method."""
    wanted = {(q, r) for q, r, _ in corpus.units}
    by_family: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for q, r, family in corpus.units:
        by_family[family].append((q, r))
    tier = {f.name: f.tier for f in FAMILIES}
    rows = []
    for family in [f.name for f in FAMILIES]:
        units = by_family[family]
        row: dict[str, Any] = {"family": family, "tier": tier[family], "copies": len(units)}
        for method, found in methods.items():
            recall = sum(u in found for u in units) / len(units)
            false = sum(1 for q, r in found - wanted if corpus.family(q, r) == family)
            row[method] = f"{recall:.2f}" + (f" ({false} FP)" if false else "")
        rows.append(row)
    pairs = len(corpus.queries) * len(corpus.rows) - len(wanted)
    for name in ("mild", "hard"):
        units = [(q, r) for q, r, f in corpus.units if tier[f] == name]
        total = {"family": f"ALL {name}", "tier": name, "copies": len(units)}
        rows.append(
            total
            | {m: f"{sum(u in f for u in units) / len(units):.3f}" for m, f in methods.items()}
        )
    rows.append(
        {"family": "false positives", "tier": "", "copies": f"{pairs:,} pairs"}
        | {m: str(len(f - wanted)) for m, f in methods.items()}
    )
    return rows


def _hash_all(
    function: Callable[[bytes], Any], files: Iterable[bytes], workers: int
) -> dict[bytes, Any]:
    unique = list(dict.fromkeys(files))
    with Pool(workers) as pool:
        return dict(zip(unique, pool.map(function, unique, chunksize=32), strict=True))


def measure(
    direction: str,
    corpus: Corpus,
    hashed: tuple[dict[bytes, Any], dict[bytes, Any], dict[bytes, Any]],
    args: argparse.Namespace,
    meta: dict[str, Any],
) -> None:
    """Every method on one direction's corpus; emit the family table and the radius sweep."""
    stored, variants, plain = hashed
    methods = variant_pairs(corpus, stored, variants) | baseline_pairs(corpus, plain)
    slug = "copy" if "copy" in direction else "original"
    if not args.no_real_path:
        with tempfile.TemporaryDirectory(prefix="robustness-") as home:
            real, located = real_pairs(corpus, Path(home), args.workers)
        traindex = methods["+ trim, both sides (= traindex)"]
        meta[f"{direction}: real path equals hash level"] = real == traindex
        floor = KeypointRules().min_inliers
        methods = {
            "traindex + keypoints (real path)": at_floor(located, floor),
            "traindex PDQ only (real path)": real,
        } | methods
        emit(
            f"image_robustness_inliers_{slug}",
            f"traindex + keypoints by inlier floor (default {floor}): {direction}",
            inlier_sweep(corpus, located),
            meta,
        )
    sweep = radius_sweep(corpus, nearest(corpus, stored, variants))
    emit(f"image_robustness_radius_{slug}", f"traindex by radius: {direction}", sweep, meta)
    emit(
        f"image_robustness_{slug}", f"Recall per family: {direction}", score(corpus, methods), meta
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tile", type=int, default=80, help="distractor tile side (px)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-real-path", action="store_true", help="skip the catalog check")
    args = parser.parse_args()
    started = time.perf_counter()
    photos = originals()
    distractors = unique_tiles(args.tile)
    sets = corpora(photos, distractors)
    all_files = [d for c in sets.values() for _, d in c.rows + c.queries]
    stored = _hash_all(dataset_side, [d for c in sets.values() for _, d in c.rows], args.workers)
    variants = _hash_all(query_side, [d for c in sets.values() for _, d in c.queries], args.workers)
    plain = _hash_all(baselines, all_files, args.workers)
    meta: dict[str, Any] = {
        "load_avg_1m_at_start": os.getloadavg()[0],
        "originals": len(photos),
        "distractor_tiles": len(distractors),
        "tile_px": args.tile,
        "edits_per_photo": sum(len(f.edits) for f in FAMILIES),
        "radius": RADIUS,
        "phash_radius": PHASH_RADIUS,
    }
    for direction, corpus in sets.items():
        measure(direction, corpus, (stored, variants, plain), args, meta)
    meta["wall_s"] = round(time.perf_counter() - started)
    meta["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(meta)


if __name__ == "__main__":
    main()
