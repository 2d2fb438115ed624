"""DataComp CommonPool / DataComp-1B metadata parquet with same-stem ``.npz`` sidecars.

Format ``datacomp``: ``<32-hex>.parquet`` files (``uid, url, text, original_width,
original_height, clip_b32_similarity_score, clip_l14_similarity_score, face_bboxes,
sha256``). When a same-stem ``.npz`` exists, each row gets ``emb_file`` (the npz path
relative to the ingested root) and ``emb_row`` (= row index: row r of every npz array is
row r of the parquet). The row count of every array in the npz is checked by reading only
the ``.npy`` headers of its zip members, so a 3 GB npz costs a few kB of reads. A missing
npz is allowed (many users download the metadata only): those rows have no ``emb_file``.
"""

from __future__ import annotations

from pathlib import Path

from traindex.errors import InputError
from traindex.ingest._npy import npz_rows
from traindex.ingest._parquet import ParquetReader, parquet_names
from traindex.ingest.base import SourceFile

__all__ = ["DataCompReader"]


class DataCompReader(ParquetReader):
    format = "datacomp"
    description = "DataComp CommonPool parquet (uid, url, text, sha256, ...) + .npz sidecars"

    @classmethod
    def sniff(cls, root: Path) -> float:
        names = {n.lower() for n in parquet_names(root) or ()}
        if "uid" not in names or "url" not in names:
            return 0.0
        if {"clip_b32_similarity_score", "face_bboxes"} & names:
            return 0.9
        return 0.6 if "original_width" in names else 0.0

    def embedding(self, source: SourceFile, num_rows: int) -> str | None:
        npz = source.path.with_suffix(".npz")
        if not npz.is_file():
            return None
        for name, rows in sorted(npz_rows(npz).items()):
            if rows != num_rows:
                raise InputError(
                    f"array {name!r} in {npz} has {rows} rows but the parquet has {num_rows}; "
                    "row r of both must be the same sample",
                    path=str(source.path),
                )
        return npz.relative_to(source.root).as_posix()
