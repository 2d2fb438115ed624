"""Issue 21 measurement: how well does the ISCC Image-Code separate edited copies from
unrelated photos, next to PDQ, on the same files in one run?

Photos: the 19 CC-BY Flickr photos (Open Images test images under ``../shared/data``) and
the face_recognition example/test photos. Each photo is edited (resize to half, JPEG
quality 40, 10 % crop of every side, horizontal flip); every (original, copy) pair is a
"copy" pair and every pair of distinct originals an "unrelated" pair. Distances: Hamming
over the ISCC Image-Code's 64-bit body (``traindex.fingerprint.iscc``) and over the
256-bit PDQ (``PdqFingerprinter``), each as bits and as a fraction of its length.

For ISCC the table reports, per radius, the share of copies found per edit and the
unrelated pairs within the radius; the chosen radius is the largest with no unrelated
pair within it, minus a margin. PDQ's row uses traindex's threshold for comparison.

    python bench/iscc_vs_pdq.py
"""

from __future__ import annotations

import hashlib
import io
import sys
from collections.abc import Callable
from itertools import combinations
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from _common import emit
from traindex.fingerprint.base import PDQ_MATCH_RADIUS
from traindex.fingerprint.iscc import image_code, image_code_body, iscc_distance
from traindex.fingerprint.pdq import PdqFingerprinter

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
FLICKR = "conceptual-captions/competition/skeleton/conceptual-captions/test_images"
RADII = (4, 6, 8, 10, 12, 14, 16)


def _jpeg(image: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


def _crop(im: Image.Image) -> Image.Image:
    w, h = im.size
    return im.crop((w // 10, h // 10, w - w // 10, h - h // 10))


EDITS: dict[str, Callable[[Image.Image], bytes]] = {
    "resize 50%": lambda im: _jpeg(im.resize((im.width // 2, im.height // 2))),
    "resize 25%": lambda im: _jpeg(im.resize((im.width // 4, im.height // 4))),
    "jpeg q40": lambda im: _jpeg(im, 40),
    "crop 10%": lambda im: _jpeg(_crop(im)),
    "flip": lambda im: _jpeg(ImageOps.mirror(im)),
}


def _photos(shared: Path) -> list[Path]:
    """Distinct photos: byte-identical files once, and the resolution variants of one
    frame (``obama-240p`` ... ``obama-1080p``, ``obama_small``) left out, since they are
    copies of each other, not unrelated photos."""
    found = sorted((shared / FLICKR).glob("*.jpg"))
    found += sorted((shared / "face_recognition").rglob("*.jpg"))
    seen: set[str] = set()
    kept = []
    for path in found:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        variant = path.stem.startswith("obama-") or path.stem.endswith("_small")
        if digest not in seen and not variant and path.stat().st_size > 0:
            seen.add(digest)
            kept.append(path)
    return kept


def _codes(data: bytes, pdq: PdqFingerprinter) -> tuple[str, bytes]:
    return image_code_body(image_code(data)), bytes.fromhex(pdq.fingerprint(data).hex)


def _pdq_distance(a: bytes, b: bytes) -> int:
    return int.from_bytes(bytes(x ^ y for x, y in zip(a, b, strict=True)), "big").bit_count()


def main() -> None:
    pdq = PdqFingerprinter()
    originals: list[tuple[str, bytes]] = []
    pairs: dict[str, list[tuple[int, int]]] = {edit: [] for edit in EDITS}
    for path in _photos(SHARED):
        data = path.read_bytes()
        try:
            original = _codes(data, pdq)
        except Exception:  # an unreadable sample is not this bench's subject
            continue
        originals.append(original)
        with Image.open(io.BytesIO(data)) as opened:
            image = ImageOps.exif_transpose(opened).convert("RGB")
        for edit, apply in EDITS.items():
            copy = _codes(apply(image), pdq)
            pairs[edit].append(
                (iscc_distance(original[0], copy[0]), _pdq_distance(original[1], copy[1]))
            )
    pairs["unrelated"] = [
        (iscc_distance(a[0], b[0]), _pdq_distance(a[1], b[1]))
        for a, b in combinations(originals, 2)
    ]
    rows = []
    for name, found in pairs.items():
        iscc = np.array([d for d, _ in found])
        pdqd = np.array([d for _, d in found])
        row: dict[str, object] = {
            "pairs": name,
            "n": len(found),
            "iscc min/med/max (of 64)": f"{iscc.min()}/{np.median(iscc):.0f}/{iscc.max()}",
            "pdq min/med/max (of 256)": f"{pdqd.min()}/{np.median(pdqd):.0f}/{pdqd.max()}",
            f"pdq <= {PDQ_MATCH_RADIUS}": f"{np.mean(pdqd <= PDQ_MATCH_RADIUS):.0%}",
        }
        row.update({f"iscc <= {r}": f"{np.mean(iscc <= r):.0%}" for r in RADII})
        rows.append(row)
    unrelated_min = min(d for d, _ in pairs["unrelated"])
    meta = {
        "photos": len(originals),
        "radii": RADII,
        "pdq_threshold": PDQ_MATCH_RADIUS,
        "closest_unrelated_iscc": unrelated_min,
        "distances": {k: [list(p) for p in v] for k, v in pairs.items()},
    }
    emit("iscc_vs_pdq", "ISCC Image-Code vs PDQ: copies and unrelated pairs", rows, meta)
    print(f"closest unrelated pair: ISCC {unrelated_min} of 64 bits")


if __name__ == "__main__":
    main()
