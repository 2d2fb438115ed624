"""PDQ interoperability: traindex's PDQ pipeline vs reference PDQ on every photo in shared data.

"Reference PDQ" is what ThreatExchange-style hash lists hold: ``pdqhash.compute`` (Meta's C++
PDQ) on the full-resolution RGB pixels, no pre-scaling. traindex hashes through its canonical
pipeline (draft JPEG decode to luma, box resize to ``side`` x ``side``, then pdqhash; see
``fingerprint/pdq.py``). For each pipeline side (64 = traindex's default) this reports the
Hamming distance to the reference hash over every decodable photo, and how many are within
the match radius (31 bits), all photos and those whose reference quality is >= 50 (PDQ's
own "usable hash" cut-off, which traindex applies too).

Usage: ``PYTHONPATH=src python bench/pdq_interop.py [--data DIR] [--sides 64 128 256]``.
Prints a table and writes ``bench/out/pdq_interop.json`` (per-photo distances included).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
import pdqhash
from PIL import Image

from _common import emit
from traindex.fingerprint.base import PDQ_MATCH_RADIUS
from traindex.fingerprint.pdq import PdqFingerprinter, hamming, pack_bits

SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}


def reference(path: Path) -> tuple[bytes, int, tuple[int, int]]:
    """Reference PDQ of the full-resolution RGB pixels, its quality, and the image size."""
    with Image.open(path) as image:
        rgb = image.convert("RGB")
    bits, quality = pdqhash.compute(np.asarray(rgb))
    return pack_bits(bits), int(quality), rgb.size


def photos(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file())


def summary(distances: list[int]) -> dict[str, Any]:
    if not distances:
        return {"n": 0}
    arr = np.asarray(distances)
    return {
        "n": len(arr),
        "median": float(np.median(arr)),
        "p90": float(np.percentile(arr, 90)),
        "max": int(arr.max()),
        f"<= {PDQ_MATCH_RADIUS}": f"{int((arr <= PDQ_MATCH_RADIUS).sum())}/{len(arr)}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("/work/shared/data"))
    parser.add_argument("--sides", type=int, nargs="+", default=[64, 128, 256])
    args = parser.parse_args()
    refs: dict[Path, tuple[bytes, int, tuple[int, int]]] = {}
    skipped: list[str] = []
    for path in photos(args.data):
        try:
            refs[path] = reference(path)
        except (OSError, ValueError) as exc:
            skipped.append(f"{path}: {exc}")
    rows, per_photo = [], {str(p): {"quality": q, "size": s} for p, (_, q, s) in refs.items()}
    for side in args.sides:
        hasher = PdqFingerprinter(side=side)
        distances, good, started = [], [], time.perf_counter()
        for path, (digest, quality, _) in refs.items():
            distance = hamming(hasher.fingerprint(path.read_bytes(), name=str(path)).digest, digest)
            distances.append(distance)
            good += [distance] if quality >= 50 else []
            per_photo[str(path)][f"side_{side}"] = distance
        elapsed = time.perf_counter() - started
        for label, values in (("all photos", distances), ("reference quality >= 50", good)):
            rows.append({"pipeline side": side, "photos": label} | summary(values))
        rows[-1]["files/s"] = len(refs) / elapsed
    meta = {"data": str(args.data), "skipped": skipped, "per_photo": per_photo}
    print(f"wrote {emit('pdq_interop', 'traindex PDQ vs reference pdqhash (bits)', rows, meta)}")


if __name__ == "__main__":
    main()
