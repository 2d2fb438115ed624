"""The per-release region index the near-copy check searches besides the PDQ index.

``<release>/nearcopy/tiles/`` is a ``MultiIndexHashIndex`` of every training image's 12
region hashes (``nearcopy.tiles``), ids ``loc << 4 | region``; flat regions (PDQ quality
below the floor) are not stored. It is built from the release's images through the same
image stream as the fingerprint job (``shard_images``) and ``tiles.decode_for_tiles``, one catalog
shard at a time; ``nearcopy/indexed.json`` lists finished shards, so a re-run resumes and a
crash re-adds at most one shard (search de-duplicates ids). Without it the check still
runs on whole-image hashes and says that regions were not searched.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from traindex.catalog.locations import loc_of
from traindex.catalog.store import Catalog, Release
from traindex.config import Settings
from traindex.errors import InputError
from traindex.fingerprint.images import DEFAULT_MAX_PIXELS
from traindex.fingerprint.locate import FolderImages, shard_images
from traindex.fingerprint.pdq import PdqFingerprinter
from traindex.index.binary import MultiIndexHashIndex
from traindex.jobs.fingerprint import FingerprintReport
from traindex.jobs.stages import row_keys
from traindex.nearcopy.tiles import dataset_regions, decode_for_tiles, pack_region_id

__all__ = ["index_tiles", "open_tiles", "tiles_stamp"]


_STAGE = "nearcopy"


def _folder(release: Release) -> Path:
    return release.dir / _STAGE


def open_tiles(release: Release) -> MultiIndexHashIndex | None:
    """The release's region index (memory-mapped), or ``None`` if never built."""
    folder = _folder(release) / "tiles"
    return MultiIndexHashIndex(folder) if (folder / "manifest.json").exists() else None


def tiles_stamp(release: Release) -> float:
    """Changes whenever shards are added to the region index (a cache key for readers)."""
    return release.indexed_stamp(_STAGE)


def _shard_hashes(
    release: Release, source: Path, fmt: str, shard_id: int, folder: FolderImages | None
) -> tuple[list[bytes], list[int], int, int]:
    """Region hashes and ids of one shard's images, plus (images seen, unreadable)."""
    keys = row_keys(release, shard_id)
    hasher = PdqFingerprinter()
    hashes: list[bytes] = []
    ids: list[int] = []
    images = errors = 0
    wanted = {key: file for key, (_, file) in keys.items()}
    for ref in shard_images(fmt, source, wanted, folder):
        found = keys.get(ref.key)
        if found is None:
            continue
        images += 1
        try:
            pixels = decode_for_tiles(ref.data, ref.name, DEFAULT_MAX_PIXELS)
        except InputError:
            errors += 1  # the fingerprint job records why; here it just has no regions
            continue
        for number, fp in enumerate(dataset_regions(pixels, hasher)):
            if not fp.low_quality:
                hashes.append(fp.digest)
                ids.append(pack_region_id(loc_of(shard_id, found[0]), number))
    return hashes, ids, images, errors


def _index_release(
    release: Release, folder: FolderImages | None, on_shard: Callable[[int], None]
) -> FingerprintReport:
    started = time.perf_counter()
    manifest = release.manifest()
    root = Path(manifest.root)
    done = release.indexed(_STAGE)
    index = MultiIndexHashIndex(_folder(release) / "tiles")
    images = errors = added = 0
    todo = [s for s in manifest.sources if s.id not in done]
    for source in todo:
        path = root if root.is_file() else root / source.relpath
        hashes, ids, seen, bad = _shard_hashes(release, path, manifest.format, source.id, folder)
        if hashes:
            index.add(hashes, np.asarray(ids, dtype=np.int64))
        done.append(source.id)
        release.mark_indexed(_STAGE, done)
        images, errors, added = images + seen, errors + bad, added + len(hashes)
        on_shard(seen)
    return FingerprintReport(
        dataset=manifest.name,
        release=manifest.release,
        shards=len(manifest.sources),
        shards_skipped=len(manifest.sources) - len(todo),
        images=images,
        errors=errors,
        hashes_indexed=added,
        seconds=time.perf_counter() - started,
    )


def index_tiles(
    settings: Settings,
    dataset: str,
    *,
    images: Path | None = None,
    on_shard: Callable[[int], None] = lambda images: None,
) -> list[FingerprintReport]:
    """Build or extend the region index of every release of ``dataset`` (the report is
    the fingerprint job's; ``hashes_indexed`` counts region hashes).

    ``images`` names the image folder for releases that do not carry their images (as for
    ``traindex fingerprint --images``); ``on_shard`` gets each finished shard's image count.
    """
    folder = FolderImages(images) if images is not None else None
    reports = []
    for release, _ in Catalog(settings).select(dataset):
        _folder(release).mkdir(parents=True, exist_ok=True)
        reports.append(_index_release(release, folder, on_shard))
    return reports
