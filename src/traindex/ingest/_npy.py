"""Row counts of ``.npy`` and ``.npz`` embedding files, read from their headers only.

Why: LAION's ``img_emb_N.npy`` (about 1 GB each) and DataComp's ``.npz`` (about 3 GB) are
row-aligned with a metadata parquet. Ingest records each row's location in the vector
file and must prove the alignment, but must never load the vectors. An ``.npy`` header
holds the array shape; an ``.npz`` is a zip of ``.npy`` members, whose headers can be
read by streaming just the first bytes of each member (cheap for stored and deflated
members alike).
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import IO

import numpy as np

from traindex.errors import InputError

__all__ = ["npy_rows", "npz_rows"]


def _rows_from_header(fp: IO[bytes], where: str) -> int:
    try:
        version = np.lib.format.read_magic(fp)
        if version == (1, 0):
            shape, _, _ = np.lib.format.read_array_header_1_0(fp)
        elif version == (2, 0):
            shape, _, _ = np.lib.format.read_array_header_2_0(fp)
        else:
            raise InputError(f"unsupported .npy format version {version}", path=where)
    except (ValueError, OSError, EOFError) as exc:
        raise InputError(f"not a readable .npy header ({exc})", path=where) from None
    if not shape:
        raise InputError("the .npy array has no rows (0-dimensional)", path=where)
    return int(shape[0])


def npy_rows(path: Path) -> int:
    """Number of rows (first dimension) of the array stored in ``path``."""
    with path.open("rb") as fp:
        return _rows_from_header(fp, str(path))


def npz_rows(path: Path) -> dict[str, int]:
    """Rows of every array in an ``.npz`` archive, by array name (``b32_img``, ...)."""
    try:
        with zipfile.ZipFile(path) as archive:
            counts: dict[str, int] = {}
            for name in archive.namelist():
                if not name.endswith(".npy"):
                    continue
                with archive.open(name) as member:
                    counts[name[: -len(".npy")]] = _rows_from_header(member, f"{path}:{name}")
            return counts
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"not a readable .npz archive ({exc})", path=str(path)) from None
