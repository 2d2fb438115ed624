"""DataComp reader on a CommonPool-shaped parquet + npz built from real LAION rows (no
public DataComp sample exists), checking the npz alignment without loading arrays."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from traindex.errors import InputError
from traindex.ingest.datacomp import DataCompReader

pytestmark = pytest.mark.shared
ReadRows = Callable[..., list[dict[str, Any]]]
STEM = "00d88deb6cc5ec92105ba44e7441e22f"


def _write_pool(folder: Path, real: pa.Table, n: int, npz_rows: int | None, **kw: Any) -> Path:
    urls = real.column("URL").to_pylist()[:n]
    table = pa.table(
        {
            "uid": [hashlib.md5(u.encode()).hexdigest() for u in urls],
            "url": urls,
            "text": real.column("TEXT").to_pylist()[:n],
            "original_width": [500 + i for i in range(n)],
            "original_height": [400 + i for i in range(n)],
            "clip_b32_similarity_score": [0.25] * n,
            "clip_l14_similarity_score": [0.21] * n,
            "face_bboxes": [[[0.6, 0.41, 0.86, 0.61]]] + [[] for _ in range(n - 1)],
            "sha256": [hashlib.sha256(u.encode()).hexdigest() for u in urls],
        }
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{STEM}.parquet"
    pq.write_table(table, path)
    if npz_rows is not None:
        arrays = {
            "b32_img": np.zeros((npz_rows, 512), np.float16),
            "l14_img": np.zeros((n, 768), np.float16),
        }
        saver = np.savez_compressed if kw.get("compressed") else np.savez
        saver(folder / f"{STEM}.npz", **arrays)
    return path


@pytest.mark.parametrize("compressed", [False, True])
def test_rows_and_npz_reference(
    tmp_path: Path, laion_rows: pa.Table, read_rows: ReadRows, compressed: bool
) -> None:
    _write_pool(tmp_path / "shards", laion_rows, 5, 5, compressed=compressed)
    rows = read_rows(DataCompReader(), tmp_path)
    assert len(rows) == 5
    assert {r["emb_file"] for r in rows} == {f"shards/{STEM}.npz"}
    assert [r["emb_row"] for r in rows] == list(range(5))
    first = rows[0]
    assert first["url"] == laion_rows.column("URL")[0].as_py()
    assert first["key"] == hashlib.md5(first["url"].encode()).hexdigest()
    assert (first["width"], first["height"], first["similarity"]) == (500, 400, 0.25)
    assert json.loads(first["face_bboxes"]) == [[0.6, 0.41, 0.86, 0.61]]
    assert json.loads(rows[1]["face_bboxes"]) == []
    assert first["sha256"] == hashlib.sha256(first["url"].encode()).hexdigest()
    assert json.loads(first["extra"]) == {"clip_l14_similarity_score": 0.21}


def test_missing_npz_is_allowed(tmp_path: Path, laion_rows: pa.Table, read_rows: ReadRows) -> None:
    path = _write_pool(tmp_path, laion_rows, 3, None)
    rows = read_rows(DataCompReader(), path)
    assert [r["emb_file"] for r in rows] == [None] * 3
    assert DataCompReader.sniff(path) == pytest.approx(0.9)


def test_npz_row_mismatch(tmp_path: Path, laion_rows: pa.Table) -> None:
    path = _write_pool(tmp_path, laion_rows, 4, 3)
    reader = DataCompReader()
    with pytest.raises(InputError, match=r"'b32_img' .* has 3 rows but the parquet has 4") as info:
        next(reader.batches(reader.sources(path)[0], 10))
    assert STEM in str(info.value)


def test_corrupt_npz(tmp_path: Path, laion_rows: pa.Table) -> None:
    path = _write_pool(tmp_path, laion_rows, 2, None)
    path.with_suffix(".npz").write_bytes(b"not a zip")
    reader = DataCompReader()
    with pytest.raises(InputError, match=r"not a readable \.npz"):
        next(reader.batches(reader.sources(path)[0], 10))
