"""Issue 3 benchmark: a 1,000-image portfolio end to end against a 10M-hash release.

The real path, as ``traindex search --images DIR`` runs it: files on disk are read,
decoded, hashed with ~57 query variants each and looked up in one release's PDQ index by
``ImageSearch.search_paths``, which also checks SHA-256 and builds every ``Match``.

The release is a real catalog (ingested CSV, fingerprinted by the fingerprint job) whose
images are edited copies of 100 portfolio images (half size, mirrored, 80% centre crop,
rotated 4 degrees, square centre crop, black padding), plus ``--hashes`` realistic PDQ
hashes (``pdq_index_speed.realistic_hashes``: random bits plus Zipf clusters of near
duplicates) added to the same index under one "filler" row, so any hit on them is a false
match and is counted. Single process, as the CLI runs (hashing is not parallelised).

    python bench/portfolio_search.py [--images 1000] [--hashes 10000000]
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from _common import emit
from fingerprint_throughput import jpeg, random_view, real_photos, square
from pdq_index_speed import realistic_hashes
from traindex.catalog.locations import loc_of
from traindex.catalog.store import Catalog
from traindex.config import Settings
from traindex.index.binary import MultiIndexHashIndex
from traindex.ingest.pipeline import ingest
from traindex.jobs.fingerprint import fingerprint
from traindex.search.images import ImageSearch

__all__ = ["folder_dataset", "main"]

EDITS: tuple[tuple[str, Callable[[Image.Image], Image.Image]], ...] = (
    ("half size", lambda im: im.resize((im.width // 2, im.height // 2))),
    ("mirrored", ImageOps.mirror),
    ("80% centre crop", lambda im: im.crop(
        (im.width // 10, im.height // 10, im.width * 9 // 10, im.height * 9 // 10))),
    ("rotated 4 deg", lambda im: im.rotate(4, resample=Image.Resampling.BILINEAR)),
    ("square centre crop", square),
    ("black padding", lambda im: ImageOps.expand(im, (30, 10, 30, 10), fill=(0, 0, 0))),
)  # fmt: skip


def folder_dataset(root: Path, rows: list[tuple[str, str, bytes | None]]) -> Settings:
    """Ingest ``(key, caption, image bytes or None)`` rows as dataset ``bench`` (a CSV plus
    ``root/images/KEY.jpg``, matched by key as ``fingerprint --images`` does)."""
    images = root / "images"
    images.mkdir(parents=True)
    listing = root / "rows.csv"
    with listing.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["key", "url", "caption"])
        for key, caption, data in rows:
            if data is not None:
                (images / f"{key}.jpg").write_bytes(data)
            writer.writerow([key, f"https://example.org/{key}.jpg", caption])
    settings = Settings(home=root / "home")
    ingest(settings, listing, dataset="bench", release="main")
    return settings


def build_release(root: Path, views: list[Image.Image], planted: int) -> Settings:
    """Row 0 = filler (no image), then edited copies of the first ``planted`` views."""
    rows: list[tuple[str, str, bytes | None]] = [("filler", "stands for the 10M others", None)]
    for i in range(planted):
        name, edit = EDITS[i % len(EDITS)]
        rows.append((f"c{i:04d}", name, jpeg(edit(views[i]), 60)))
    return folder_dataset(root, rows)


def add_filler(settings: Settings, count: int) -> dict[str, Any]:
    """Add ``count`` realistic hashes to the release's PDQ index, all under the filler row."""
    [(release, manifest)] = Catalog(settings).select("bench")
    shard_id = manifest.sources[0].id
    hashes = realistic_hashes(count, np.random.default_rng(11))
    started = time.perf_counter()
    MultiIndexHashIndex(release.dir / "pdq").add(hashes, np.full(count, loc_of(shard_id, 0)))
    return {"filler_build_s": time.perf_counter() - started}


def timed(search: ImageSearch) -> list[float]:
    """Record the seconds ``search`` spends in PDQ index look-ups (the rest is reading,
    decoding, hashing and building matches)."""
    spent: list[float] = []
    lookup = search._same_image

    def wrapper(*args: Any) -> Any:
        started = time.perf_counter()
        try:
            return lookup(*args)
        finally:
            spent.append(time.perf_counter() - started)

    search._same_image = wrapper  # type: ignore[method-assign]
    return spent


def run(args: argparse.Namespace, root: Path) -> dict[str, Any]:
    rng = np.random.default_rng(5)
    photos = real_photos()
    views = [random_view(photos[i % len(photos)], rng) for i in range(args.images)]
    portfolio = root / "portfolio"
    portfolio.mkdir()
    for i, view in enumerate(views):
        (portfolio / f"{i:04d}.jpg").write_bytes(jpeg(view, int(rng.integers(80, 96))))
    settings = build_release(root / "dataset", views, args.planted)
    info = add_filler(settings, args.hashes)
    [report] = fingerprint(settings, "bench", images=root / "dataset" / "images", workers=2)
    [view] = ImageSearch(Catalog(settings)).views.select("bench")
    assert view.pdq is not None
    search = ImageSearch(Catalog(settings))
    lookup_s = timed(search)
    paths = sorted(portfolio.iterdir())
    started = time.perf_counter()
    result = search.search_paths(paths)
    total_s = time.perf_counter() - started
    own = {(f"{i:04d}.jpg", f"c{i:04d}") for i in range(args.planted)}
    pairs = {(Path(m.query).name, str(m.key)) for m in result.matches}
    return {
        "images": len(paths),
        "index_hashes": len(view.pdq),
        "index_shards": len(view.pdq.shard_sizes),
        "query_hashes": sum(q.variants for q in result.queries),
        "total_s": total_s,
        "of_which_index_lookup_s": sum(lookup_s),
        "ms_per_image": 1000 * total_s / len(paths),
        "planted_found": len(pairs & own),
        "planted": args.planted,
        "false_matches": len(pairs - own),
        "filler_matches": sum(1 for _, key in pairs if key == "filler"),
        "errors": len(result.to_json()["errors"]),
        "fingerprinted_rows": report.images,
        **info,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--planted", type=int, default=100)
    parser.add_argument("--hashes", type=int, default=10_000_000)
    parser.add_argument("--work", default=None, help="folder for the catalog (default: tmp)")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="portfolio-", dir=args.work) as root:
        row = run(args, Path(root))
    meta = {
        "path": "ImageSearch.search_paths (one process, index look-ups on 2 threads)",
        "load_avg_1m_at_start": load,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    emit("portfolio_search", "Portfolio end to end (files on disk -> matches)", [row], meta)


if __name__ == "__main__":
    main()
