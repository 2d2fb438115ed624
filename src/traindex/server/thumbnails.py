"""Thumbnails of catalog rows, only from images this machine holds, only when safe to show.

The web app never hot-links a dataset URL: the browser would tell a stranger's server who
is searching, and the image there may have changed. A row gets a thumbnail only if the
fingerprint job found its image locally (an img2dataset tar/folder/parquet output or a
folder named with ``--images``); the fingerprint shard records where (``image``) and the
bytes' SHA-256, which is re-checked so a replaced file is never shown as the row's image.

Never shown, whatever is asked: rows whose dataset flags them unsafe (LAION ``punsafe``
above ``Settings.web_unsafe_threshold``, ``nsfw`` = NSFW/UNSURE) and images on the block
list (``Settings.web_block_hashes``: lines ``sha256:HEX`` or ``pdq:HEX``; a PDQ entry blocks
everything within ``web_block_pdq_distance`` bits). Rendered thumbnails are cached under
``<home>/web/thumbs`` by the image's SHA-256, so the same image in many releases is
rendered once.
"""

from __future__ import annotations

import tarfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow.compute as pc
import pyarrow.parquet as pq

from traindex.config import Settings
from traindex.core.files import write_atomic
from traindex.errors import InputError
from traindex.fingerprint.exact import file_digest
from traindex.fingerprint.images import thumbnail_jpeg
from traindex.search.views import ReleaseView

__all__ = ["BlockList", "LocalImage", "Thumbnails"]

_UNSAFE_NSFW = frozenset({"NSFW", "UNSURE"})
_CACHED_SHARDS = 64


@dataclass(frozen=True, slots=True)
class LocalImage:
    """Where a row's image is on this machine: fingerprint ``image`` name, digests, row."""

    name: str
    sha256: str
    pdq: bytes | None
    catalog_row: int


class BlockList:
    """SHA-256 and PDQ hashes whose images are never shown."""

    def __init__(self, sha256: set[str], pdq: list[bytes], distance: int) -> None:
        self.sha256 = sha256
        self.distance = distance
        self._pdq = np.frombuffer(b"".join(pdq), np.uint8).reshape(-1, 32)

    @classmethod
    def load(cls, path: Path | None, distance: int) -> BlockList:
        """Read ``sha256:HEX`` / ``pdq:HEX`` lines (``#`` comments); bad lines name their line."""
        sha, pdq = set[str](), list[bytes]()
        if path is None:
            return cls(sha, pdq, distance)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise InputError(f"cannot read the block list: {exc}", path=str(path)) from exc
        for number, line in enumerate(lines, 1):
            text = line.split("#", 1)[0].strip().lower()
            if not text:
                continue
            kind, _, value = text.partition(":")
            try:
                digest = bytes.fromhex(value)
            except ValueError:
                digest = b""
            if kind not in ("sha256", "pdq") or len(digest) != 32:
                raise InputError(
                    "expected sha256:<64 hex> or pdq:<64 hex>", path=str(path), row=number
                )
            if kind == "sha256":
                sha.add(digest.hex())
            else:
                pdq.append(digest)
        return cls(sha, pdq, distance)

    def blocks(self, sha256: str, pdq: bytes | None) -> bool:
        if sha256 in self.sha256:
            return True
        if pdq is None or not len(self._pdq):
            return False
        query = np.frombuffer(pdq, np.uint8)
        bits = np.unpackbits(np.bitwise_xor(self._pdq, query), axis=1).sum(axis=1)
        return bool((bits <= self.distance).any())


def _flagged_unsafe(punsafe: object, nsfw: object, threshold: float) -> bool:
    if isinstance(punsafe, int | float) and punsafe > threshold:
        return True
    return isinstance(nsfw, str) and nsfw.strip().upper() in _UNSAFE_NSFW


def read_local(name: str) -> bytes | None:
    """The bytes behind a fingerprint ``image`` name: a file, ``TAR:member`` or ``PARQUET:key``."""
    path = Path(name)
    if path.is_file():
        return path.read_bytes()
    container, _, member = name.rpartition(":")
    source = Path(container)
    if not member or not source.is_file():
        return None
    if source.suffix.lower() == ".parquet":
        table = pq.read_table(source, filters=[("key", "=", member)])
        column = next((c for c in ("jpg", "png", "webp", "image") if c in table.column_names), None)
        value = table.column(column)[0].as_py() if column and table.num_rows else None
        return value if isinstance(value, bytes) else None
    with tarfile.open(source, mode="r:*") as tar:
        try:
            handle = tar.extractfile(member)
        except KeyError:
            return None
        return handle.read() if handle is not None else None


class Thumbnails:
    """Finds, vets and renders row thumbnails for one app."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.cache_dir = settings.home / "web" / "thumbs"
        self.block = BlockList.load(settings.web_block_hashes, settings.web_block_pdq_distance)
        self._shards: OrderedDict[tuple[str, int, float], dict[int, LocalImage]] = OrderedDict()

    def _shard_images(self, view: ReleaseView, shard_id: int) -> dict[int, LocalImage]:
        """Source row -> local image for one fingerprinted shard (LRU-cached per file version)."""
        path = view.release.dir / "fingerprints" / f"{shard_id:05d}.parquet"
        if not path.exists():
            return {}
        key = (str(path), shard_id, path.stat().st_mtime)
        if key in self._shards:
            self._shards.move_to_end(key)
            return self._shards[key]
        table = pq.read_table(path, columns=["row", "image", "sha256", "pdq", "error"])
        table = table.filter(pc.is_null(table.column("error")))
        rows: npt.NDArray[np.int64] = np.asarray(table.column("row").to_numpy(), dtype=np.int64)
        sources = view.rows.fetch(shard_id, rows.tolist(), ["source_row"]).column(0).to_pylist()
        found = {
            int(src): LocalImage(str(name), str(sha), pdq, int(row))
            for src, name, sha, pdq, row in zip(
                sources, table.column("image").to_pylist(), table.column("sha256").to_pylist(),
                table.column("pdq").to_pylist(), rows.tolist(), strict=True,
            )
        }  # fmt: skip
        self._shards[key] = found
        if len(self._shards) > _CACHED_SHARDS:
            self._shards.popitem(last=False)
        return found

    def local(self, view: ReleaseView, shard_id: int, source_row: int) -> LocalImage | None:
        """The row's local image if one exists (whether or not it may be shown)."""
        return self._shard_images(view, shard_id).get(source_row)

    def showable(self, view: ReleaseView, shard_id: int, source_row: int) -> LocalImage | None:
        """The row's local image if it exists and neither the dataset nor the block list
        forbids showing it; ``None`` otherwise (then the page shows the URL as text)."""
        image = self.local(view, shard_id, source_row)
        if image is None or self.block.blocks(image.sha256, image.pdq):
            return None
        flags = view.rows.fetch(shard_id, [image.catalog_row], ["punsafe", "nsfw"]).to_pylist()[0]
        unsafe = _flagged_unsafe(
            flags["punsafe"], flags["nsfw"], self.settings.web_unsafe_threshold
        )
        return None if unsafe else image

    def render(self, image: LocalImage) -> bytes | None:
        """A JPEG thumbnail (cached), or ``None`` if the file is gone, changed or unreadable."""
        side = self.settings.web_thumbnail_side
        cached = self.cache_dir / image.sha256[:2] / f"{image.sha256}-{side}.jpg"
        if cached.is_file():
            return cached.read_bytes()
        data = read_local(image.name)
        if data is None or file_digest(data) != image.sha256:
            return None
        jpeg = thumbnail_jpeg(data, side, name=image.name, quality=82)
        if jpeg is None:
            return None
        cached.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(cached, jpeg)
        return jpeg
