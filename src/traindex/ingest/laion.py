"""LAION metadata readers: LAION-400M, LAION-5B "-joined", raw laion2B, embedding layout.

Formats:

* ``laion`` -- LAION-400M metadata parquet (``SAMPLE_ID, URL, TEXT, HEIGHT, WIDTH,
  LICENSE, NSFW, similarity``) and the LAION-5B "-joined" sets (``URL, TEXT, WIDTH,
  HEIGHT, similarity, [LANGUAGE], hash, pwatermark, punsafe``), whose sizes are right.
* ``laion2b-raw`` -- the raw laion2B-en/-multi/1B-nolang parts, which store WIDTH and
  HEIGHT swapped; this reader swaps them back. Only the file names (the parts' known
  uuids) tell raw from fixed files apart, so a raw-looking file with another name is
  reported as ambiguous rather than guessed.
* ``laion-embeddings`` -- ``img_emb/img_emb_N.npy`` (+ optional ``text_emb``) aligned
  row by row with ``metadata/metadata_N.parquet`` or ``<subset>-metadata/metadata_N.parquet``.
  The metadata files are the sources; each row gets ``emb_file`` (npy path relative to
  the root) and ``emb_row``. Row counts are checked from the npy headers; vectors are
  never loaded. clip-retrieval metadata made from local files has no ``url`` (only
  ``image_path``), so this format requires a key, not a URL.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from traindex.errors import InputError
from traindex.ingest._npy import npy_rows
from traindex.ingest._parquet import ParquetReader, natural_key, parquet_files, parquet_names
from traindex.ingest.base import SourceFile

__all__ = ["Laion2bRawReader", "LaionEmbeddingsReader", "LaionReader"]

# uuids in the part names of the raw (size-swapped) laion2B-en, laion2B-multi, laion1B-nolang
RAW_PART_UUIDS = ("5114fd87", "fc82da14", "d6a94da9")
_FIXED_MARKERS = frozenset({"SAMPLE_ID", "hash", "punsafe", "pwatermark"})


def _laion_kind(root: Path) -> str | None:
    """``fixed``, ``raw``, ``raw-named``, ``plain`` (URL+TEXT only) or ``None``."""
    names = parquet_names(root)
    if names is None or not {"URL", "TEXT"} <= set(names):
        return None
    if _FIXED_MARKERS & set(names):
        return "fixed"
    if not {"WIDTH", "HEIGHT"} <= set(names):
        return "plain"
    first = parquet_files(root)[0]
    return "raw-named" if any(u in first.name for u in RAW_PART_UUIDS) else "raw"


class LaionReader(ParquetReader):
    format = "laion"
    description = "LAION-400M metadata / LAION-5B '-joined' parquet (URL, TEXT, WIDTH, ...)"

    @classmethod
    def sniff(cls, root: Path) -> float:
        scores = {"fixed": 0.9, "plain": 0.7, "raw": 0.5, "raw-named": 0.3}
        return scores.get(_laion_kind(root) or "", 0.0)


class Laion2bRawReader(LaionReader):
    format = "laion2b-raw"
    description = "raw laion2B-en/-multi/1B-nolang parquet parts (WIDTH/HEIGHT swapped back)"
    swap_width_height = True

    @classmethod
    def sniff(cls, root: Path) -> float:
        return {"raw": 0.5, "raw-named": 0.95}.get(_laion_kind(root) or "", 0.0)


_METADATA = re.compile(r"^metadata_(\d+)\.parquet$")


def _metadata_dirs(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(
        d
        for d in root.iterdir()
        if d.is_dir() and (d.name == "metadata" or d.name.endswith("-metadata"))
    )


class LaionEmbeddingsReader(ParquetReader):
    format = "laion-embeddings"
    description = "LAION / clip-retrieval embedding folder: img_emb/*.npy + metadata/*.parquet"
    required: ClassVar[tuple[str, ...]] = ("key",)
    url_required: ClassVar[bool] = False

    @classmethod
    def sniff(cls, root: Path) -> float:
        if root.is_dir() and (root / "img_emb").is_dir() and _metadata_dirs(root):
            return 0.95
        return 0.0

    def sources(self, root: Path) -> list[SourceFile]:
        files = [
            p
            for d in _metadata_dirs(root)
            for p in sorted(d.iterdir(), key=natural_key)
            if _METADATA.match(p.name)
        ]
        return [SourceFile.of(p, root) for p in files]

    def embedding(self, source: SourceFile, num_rows: int) -> str | None:
        match = _METADATA.match(source.path.name)
        if match is None:
            raise InputError("not a metadata_N.parquet file", path=str(source.path))
        index = match.group(1)
        img = source.root / "img_emb" / f"img_emb_{index}.npy"
        if not img.is_file():
            raise InputError(
                f"no embedding file {img} for this metadata file; ingest the metadata "
                "alone with --format laion or --format table",
                path=str(source.path),
            )
        for npy in (img, source.root / "text_emb" / f"text_emb_{index}.npy"):
            if npy.is_file() and (rows := npy_rows(npy)) != num_rows:
                raise InputError(
                    f"{npy} has {rows} rows but the metadata file has {num_rows}; "
                    "row r of both must be the same sample",
                    path=str(source.path),
                )
        return img.relative_to(source.root).as_posix()
