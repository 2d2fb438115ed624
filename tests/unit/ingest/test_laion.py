"""LAION readers on the real LAION-400M rows, the real LAION-layout embeddings, and
laion2B joined/raw parts and a LAION-5B embedding layout built from real rows."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from traindex.errors import InputError
from traindex.ingest.base import ReaderOptions
from traindex.ingest.laion import Laion2bRawReader, LaionEmbeddingsReader, LaionReader

pytestmark = pytest.mark.shared
ReadRows = Callable[..., list[dict[str, Any]]]

RAW_NAME = "part-00000-5114fd87-297e-42b0-9d11-50f1df323dfa-c000.snappy.parquet"
JOINED_NAME = "part-00000-4cfd6e30-f032-46ee-9105-8696034a8373-c000.snappy.parquet"


@pytest.mark.parametrize(("name", "count"), [("test_1000", 1000), ("test_10000", 10000)])
def test_laion400m_rows(shared_data: Path, read_rows: ReadRows, name: str, count: int) -> None:
    path = shared_data / f"img2dataset/tests/test_files/{name}.parquet"
    rows = read_rows(LaionReader(), path, batch_rows=4096)
    assert len(rows) == count
    assert [r["source_row"] for r in rows] == list(range(count))
    assert rows[0]["url"] == (
        "http://direct.rhapsody.com/imageserver/v2/albums/Alb.131805200/images/170x170.jpg"
    )
    assert rows[0]["caption"].startswith("Classical Masterpieces: Xerses")
    assert all(r["extra"] is None for r in rows)  # only the pandas index was left over


def test_laion400m_known_flickr_row(shared_data: Path, read_rows: ReadRows) -> None:
    path = shared_data / "img2dataset/tests/test_files/test_10000.parquet"
    rows = read_rows(LaionReader(), path, batch_rows=1000)
    assert rows[273]["url"] == "https://farm7.staticflickr.com/6112/6326800071_be57592c53.jpg"
    assert rows[1234]["caption"] == "nurses are blessings from God 5x7"
    assert sum("staticflickr.com" in r["url"] for r in rows) == 21


def _laion_table(real: pa.Table, n: int, *, joined: bool) -> pa.Table:
    urls = real.column("URL").to_pylist()[:n]
    texts = real.column("TEXT").to_pylist()[:n]
    columns: dict[str, list[object]] = {
        "URL": urls,
        "TEXT": texts,
        "WIDTH": [640 + i for i in range(n)],
        "HEIGHT": [480 + i for i in range(n)],
        "similarity": [0.31] * n,
        "LANGUAGE": ["en"] * n,
    }
    if joined:
        columns |= {"hash": list(range(-n, 0)), "pwatermark": [0.1] * n, "punsafe": [0.2] * n}
    return pa.table(columns)


def test_laion2b_joined(tmp_path: Path, laion_rows: pa.Table, read_rows: ReadRows) -> None:
    path = tmp_path / JOINED_NAME
    pq.write_table(_laion_table(laion_rows, 5, joined=True), path)
    assert LaionReader.sniff(path) == pytest.approx(0.9)
    assert Laion2bRawReader.sniff(path) == 0.0
    rows = read_rows(LaionReader(), path)
    assert (rows[2]["width"], rows[2]["height"]) == (642, 482)
    assert rows[2]["key"] == "-3"
    assert (rows[2]["punsafe"], rows[2]["pwatermark"], rows[2]["language"]) == (0.2, 0.1, "en")
    assert rows[2]["url"] == laion_rows.column("URL")[2].as_py()


def test_laion2b_raw_swaps_width_and_height(
    tmp_path: Path, laion_rows: pa.Table, read_rows: ReadRows
) -> None:
    path = tmp_path / RAW_NAME
    pq.write_table(_laion_table(laion_rows, 5, joined=False), path)
    assert Laion2bRawReader.sniff(path) > LaionReader.sniff(path)
    rows = read_rows(Laion2bRawReader(), path)
    assert (rows[1]["width"], rows[1]["height"]) == (481, 641)
    forced = read_rows(LaionReader(ReaderOptions(swap_width_height=True)), path)
    assert [(r["width"], r["height"]) for r in forced] == [(r["width"], r["height"]) for r in rows]
    plain = read_rows(LaionReader(), path)
    assert (plain[1]["width"], plain[1]["height"]) == (641, 481)


def test_laion_embeddings_sample(generated: Path, read_rows: ReadRows) -> None:
    root = generated / "clip-retrieval-vitb32-embeddings-laion-layout"
    reader = LaionEmbeddingsReader()
    assert [s.relpath for s in reader.sources(root)] == ["metadata/metadata_0.parquet"]
    rows = read_rows(reader, root)
    assert len(rows) == 7
    assert {r["emb_file"] for r in rows} == {"img_emb/img_emb_0.npy"}
    assert [r["emb_row"] for r in rows] == list(range(7))
    assert rows[0]["key"] == "123_456"
    assert (rows[0]["width"], rows[0]["height"]) == (123, 456)
    assert all(r["url"] is None for r in rows)


def _subset_layout(root: Path, laion_rows: pa.Table, meta_rows: int, npy_rows: int) -> None:
    (root / "img_emb").mkdir(parents=True)
    (root / "laion2B-en-metadata").mkdir()
    n = meta_rows
    table = pa.table(
        {
            "image_path": [f"{i:09d}" for i in range(n)],
            "caption": laion_rows.column("TEXT").to_pylist()[:n],
            "url": laion_rows.column("URL").to_pylist()[:n],
            "key": [f"{i:09d}" for i in range(n)],
            "status": ["success"] * n,
            "md5": ["0" * 32] * n,
        }
    )
    pq.write_table(table, root / "laion2B-en-metadata" / "metadata_0000.parquet")
    np.save(root / "img_emb" / "img_emb_0000.npy", np.zeros((npy_rows, 768), np.float16))


def test_laion5b_subset_layout(tmp_path: Path, laion_rows: pa.Table, read_rows: ReadRows) -> None:
    _subset_layout(tmp_path, laion_rows, 4, 4)
    rows = read_rows(LaionEmbeddingsReader(), tmp_path)
    assert [r["emb_row"] for r in rows] == [0, 1, 2, 3]
    assert rows[3]["emb_file"] == "img_emb/img_emb_0000.npy"
    assert rows[3]["url"] == laion_rows.column("URL")[3].as_py()
    assert rows[3]["_source"] == "laion2B-en-metadata/metadata_0000.parquet"


def test_embedding_row_count_mismatch(tmp_path: Path, laion_rows: pa.Table) -> None:
    _subset_layout(tmp_path, laion_rows, 4, 5)
    reader = LaionEmbeddingsReader()
    source = reader.sources(tmp_path)[0]
    with pytest.raises(InputError, match=r"img_emb_0000\.npy has 5 rows .* has 4") as info:
        next(reader.batches(source, 10))
    assert "metadata_0000.parquet" in str(info.value)


def test_text_embedding_mismatch_and_missing_npy(
    tmp_path: Path, laion_rows: pa.Table, generated: Path
) -> None:
    root = tmp_path / "layout"
    shutil.copytree(generated / "clip-retrieval-vitb32-embeddings-laion-layout", root)
    (root / "text_emb").mkdir()
    np.save(root / "text_emb" / "text_emb_0.npy", np.zeros((6, 512), np.float16))
    reader = LaionEmbeddingsReader()
    with pytest.raises(InputError, match=r"text_emb_0\.npy has 6 rows"):
        next(reader.batches(reader.sources(root)[0], 10))
    (root / "img_emb" / "img_emb_0.npy").unlink()
    with pytest.raises(InputError, match="no embedding file"):
        next(reader.batches(reader.sources(root)[0], 10))


def test_vectors_are_not_loaded(generated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("np.load must not be called")

    monkeypatch.setattr(np, "load", forbidden)
    root = generated / "clip-retrieval-vitb32-embeddings-laion-layout"
    reader = LaionEmbeddingsReader()
    assert sum(b.num_rows for b in reader.batches(reader.sources(root)[0], 3)) == 7
