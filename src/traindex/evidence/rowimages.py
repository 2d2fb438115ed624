"""The dataset side of an image match: the row's image digests and a small thumbnail.

The fingerprint job records, per catalog row, the SHA-256 and PDQ of the image as the
dataset stores it (``<release>/fingerprints/<shard>.parquet``) and where the image came
from. A report prints those next to the query image's, and inlines a thumbnail where the
catalog can still reach the image (img2dataset shards carry their images; other releases
point at the files the fingerprint job read). Rows a dataset flags as unsafe never get a
thumbnail (DESIGN.md safety rules).
"""

from __future__ import annotations

import base64
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from traindex.catalog.manifest import Manifest
from traindex.catalog.store import Catalog
from traindex.core.matches import Match
from traindex.fingerprint.images import thumbnail_jpeg
from traindex.fingerprint.locate import shard_images

__all__ = ["RowImage", "RowImages", "RowRef", "jpeg_data_uri", "row_ref"]

RowRef = tuple[str, str, str, str]  # dataset, release, source file, row key


def row_ref(match: Match) -> RowRef:
    return (match.dataset, match.release, match.shard, match.key or "")


@dataclass(frozen=True, slots=True)
class RowImage:
    """What the fingerprint job recorded for one row's image."""

    sha256: str | None
    pdq: str | None
    source: str


def _read_fingerprints(path: Path, keys: list[str]) -> dict[str, RowImage]:
    if not path.exists():
        return {}
    table = pq.read_table(
        path, columns=["key", "sha256", "pdq", "image"], filters=[("key", "in", keys)]
    )
    found = {}
    for rec in table.to_pylist():
        pdq = rec["pdq"].hex() if rec["pdq"] is not None else None
        found[str(rec["key"])] = RowImage(rec["sha256"], pdq, str(rec["image"]))
    return found


class RowImages:
    """Row image digests and thumbnails for the matches of one report."""

    def __init__(self, catalog: Catalog, *, max_px: int = 128, unsafe: float = 0.1) -> None:
        self.catalog = catalog
        self.max_px = max_px
        self.unsafe = unsafe

    def _manifest(self, dataset: str, release: str) -> Manifest | None:
        rel = self.catalog.release(dataset, release)
        return rel.manifest() if rel.exists() else None

    def _groups(self, matches: Sequence[Match]) -> dict[tuple[str, str, str], list[str]]:
        groups: dict[tuple[str, str, str], list[str]] = defaultdict(list)
        for m in matches:
            if m.key is not None:
                groups[(m.dataset, m.release, m.shard)].append(m.key)
        return groups

    def digests(self, matches: Sequence[Match]) -> dict[RowRef, RowImage]:
        """Recorded image digests of the matched rows that were fingerprinted."""
        found: dict[RowRef, RowImage] = {}
        for (dataset, release, shard), keys in self._groups(matches).items():
            manifest = self._manifest(dataset, release)
            source = manifest.source(shard) if manifest is not None else None
            if source is None:
                continue
            path = self.catalog.release(dataset, release).dir / "fingerprints"
            rows = _read_fingerprints(path / f"{source.id:05d}.parquet", keys)
            found.update({(dataset, release, shard, k): v for k, v in rows.items()})
        return found

    def thumbnails(
        self, matches: Sequence[Match], digests: dict[RowRef, RowImage], limit: int
    ) -> dict[RowRef, str]:
        """``data:`` URIs of small JPEG thumbnails for at most ``limit`` safe rows."""
        wanted = [m for m in matches if row_ref(m) in digests and self._safe(m)][:limit]
        thumbs: dict[RowRef, str] = {}
        for (dataset, release, shard), keys in self._groups(wanted).items():
            manifest = self._manifest(dataset, release)
            assert manifest is not None  # digests exist only for catalogued rows
            refs = {k: digests[(dataset, release, shard, k)] for k in keys}
            for key, data in _image_bytes(manifest, shard, refs):
                uri = self._thumbnail(data)
                if uri is not None:
                    thumbs[(dataset, release, shard, key)] = uri
        return thumbs

    def _safe(self, match: Match) -> bool:
        punsafe = match.extra.get("punsafe")
        return punsafe is None or float(punsafe) <= self.unsafe

    def _thumbnail(self, data: bytes) -> str | None:
        jpeg = thumbnail_jpeg(data, self.max_px, name="thumbnail", quality=70)
        return None if jpeg is None else jpeg_data_uri(jpeg)


def jpeg_data_uri(jpeg: bytes) -> str:
    """Inline a JPEG into a self-contained page (reports never fetch anything)."""
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


def _image_bytes(
    manifest: Manifest, shard: str, refs: dict[str, RowImage]
) -> Iterator[tuple[str, bytes]]:
    """Bytes of the rows' images: from the img2dataset shard, else the file fingerprinted."""
    if manifest.format.startswith("img2dataset-"):
        root = Path(manifest.root)
        source = root if root.is_file() else root / shard
        if not source.exists():
            return
        for ref in shard_images(manifest.format, source, dict.fromkeys(refs), None):
            if ref.key in refs:
                yield ref.key, ref.data
        return
    for key, row in refs.items():
        path = Path(row.source)
        if path.is_file():
            yield key, path.read_bytes()
