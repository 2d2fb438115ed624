"""Where a catalog shard's images are, and how to stream them.

img2dataset outputs carry their images: webdataset tars (``KEY.jpg`` members), ``files``
folders (``NNNNN/KEY.jpg``) and parquet outputs (a ``jpg`` bytes column). For any other
release the images come from a folder the user names (``--images DIR``), matched to rows
by the row's ``key`` or by the file name the row records (``extra.image_file``), at any
depth. Images are yielded one at a time, so memory does not grow with the shard.
"""

from __future__ import annotations

import json
import tarfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from traindex.errors import InputError

__all__ = ["IMAGE_SUFFIXES", "FolderImages", "ImageRef", "recorded_file", "shard_images"]

IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".avif", ".heic", ".heif"}
)
_READ_LIMIT = 64 * 1024 * 1024  # a single image file larger than this is not read


@dataclass(frozen=True, slots=True)
class ImageRef:
    """One image's bytes, the key it belongs to, and a name errors can point at."""

    key: str
    data: bytes
    name: str


def _tar_images(path: Path) -> Iterator[ImageRef]:
    with tarfile.open(path, mode="r|*") as tar:
        for member in tar:
            suffix = Path(member.name).suffix.lower()
            if not member.isfile() or suffix not in IMAGE_SUFFIXES or member.size > _READ_LIMIT:
                continue
            handle = tar.extractfile(member)
            if handle is not None:
                key = Path(member.name).name[: -len(suffix)]
                yield ImageRef(key, handle.read(), f"{path}:{member.name}")


def _folder_images(path: Path) -> Iterator[ImageRef]:
    for file in sorted(path.iterdir()):
        if file.suffix.lower() in IMAGE_SUFFIXES and file.stat().st_size <= _READ_LIMIT:
            yield ImageRef(file.stem, file.read_bytes(), str(file))


def _parquet_images(path: Path) -> Iterator[ImageRef]:
    pf = pq.ParquetFile(path)
    names = set(pf.schema_arrow.names)
    column = next((c for c in ("jpg", "png", "webp", "image") if c in names), None)
    if column is None or "key" not in names:
        return
    for batch in pf.iter_batches(columns=["key", column], batch_size=256):
        for key, data in zip(batch.column(0).to_pylist(), batch.column(1).to_pylist(), strict=True):
            if data:
                yield ImageRef(str(key), data, f"{path}:{key}")


class FolderImages:
    """A user-named image folder, indexed once by file name and by stem."""

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise InputError("image folder not found", path=str(root))
        self.by_name: dict[str, Path] = {}
        for path in sorted(root.rglob("*")):
            if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
                self.by_name.setdefault(path.name, path)
                self.by_name.setdefault(path.stem, path)

    def images(self, keys: Mapping[str, str | None]) -> Iterator[ImageRef]:
        """Images for ``key -> recorded file name`` pairs that exist in the folder."""
        for key, file_name in keys.items():
            path = self.by_name.get(file_name or "") or self.by_name.get(key)
            if path is not None and path.stat().st_size <= _READ_LIMIT:
                yield ImageRef(key, path.read_bytes(), str(path))


def recorded_file(extra: str | None) -> str | None:
    """The image file name a row's ``extra`` JSON records, if any."""
    if not extra:
        return None
    value = json.loads(extra).get("image_file")
    return str(value) if value else None


def shard_images(
    fmt: str, source: Path, keys: Mapping[str, str | None], folder: FolderImages | None
) -> Iterator[ImageRef]:
    """The images of one catalog shard: from the source itself, else from ``folder``."""
    if folder is not None:
        yield from folder.images(keys)
    elif fmt == "img2dataset-webdataset":
        yield from _tar_images(source)
    elif fmt == "img2dataset-files":
        yield from _folder_images(source)
    elif fmt == "img2dataset-parquet":
        yield from _parquet_images(source)
    else:
        raise InputError(
            f"a {fmt!r} release has no images of its own; name their folder with --images DIR",
            path=str(source),
        )
