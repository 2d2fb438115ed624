"""img2dataset readers on the real img2dataset 1.47.0 output (all three forms) and on
clip-retrieval's image-only tars."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from traindex.errors import BadRowError, InputError
from traindex.ingest.base import ReaderOptions
from traindex.ingest.img2dataset import (
    Img2datasetFilesReader,
    Img2datasetParquetReader,
    Img2datasetWebdatasetReader,
)

pytestmark = pytest.mark.shared
ReadRows = Callable[..., list[dict[str, Any]]]

FORMS = [
    ("parquet", Img2datasetParquetReader),
    ("webdataset", Img2datasetWebdatasetReader),
    ("files", Img2datasetFilesReader),
]
FAILED = {
    "000018": ("failed_to_download", "HTTP Error 404: File not found"),
    "000019": ("failed_to_resize", "Image decoding error"),
}


@pytest.mark.parametrize(("form", "reader_cls"), FORMS)
def test_all_samples_with_status(
    img2dataset_out: Path, read_rows: ReadRows, form: str, reader_cls: type[Any]
) -> None:
    rows = read_rows(reader_cls(), img2dataset_out / form)
    keys = sorted(r["key"] for r in rows)
    assert keys == [f"{i:06d}" for i in range(20)]
    assert sum(r["status"] == "success" for r in rows) == 18
    failed = {r["key"]: (r["status"], r["error_message"]) for r in rows if r["status"] != "success"}
    assert failed == FAILED
    by_key = {r["key"]: r for r in rows}
    row = by_key["000017"]
    assert row["url"] == "http://127.0.0.1:18765/010c974fd28419f6.jpg"
    assert row["caption"] == "Deyeuxia parviseta var parviseta79 floret1"
    assert (row["width"], row["height"]) == (640, 480)  # original size, not the resized one
    assert row["sha256"].startswith("466b8e66")
    assert row["author"] == "Harry Rose"
    assert row["license"] == "https://creativecommons.org/licenses/by/2.0/"
    # the Flickr page names the owner; normalise extracts "macleaygrassman" from it
    assert row["flickr_owner"] == "https://www.flickr.com/photos/macleaygrassman/8674123667"
    extra = json.loads(row["extra"])
    assert extra["flickr_url"] == "https://farm7.staticflickr.com/8538/8674123667_d95c68fae9_o.jpg"
    assert "jpg" not in extra  # image bytes never reach the catalog
    assert by_key["000018"]["url"] == "http://127.0.0.1:18765/missing_404.jpg"
    assert by_key["000019"]["url"] == "http://127.0.0.1:18765/not_an_image.jpg"


@pytest.mark.parametrize(("form", "reader_cls"), FORMS)
def test_sources_are_the_shards(img2dataset_out: Path, form: str, reader_cls: type[Any]) -> None:
    relpaths = [s.relpath for s in reader_cls().sources(img2dataset_out / form)]
    expected = {"parquet": ["00000.parquet", "00001.parquet"]}
    expected |= {"webdataset": ["00000.tar", "00001.tar"], "files": ["00000", "00001"]}
    assert relpaths == expected[form]


def test_parquet_form_keeps_file_order_and_source_rows(
    img2dataset_out: Path, read_rows: ReadRows
) -> None:
    rows = read_rows(Img2datasetParquetReader(), img2dataset_out / "parquet" / "00001.parquet")
    assert [r["source_row"] for r in rows] == list(range(10))
    assert [r["key"] for r in rows][:2] == ["000011", "000012"]  # not key order


def test_tar_rows_carry_image_member(img2dataset_out: Path, read_rows: ReadRows) -> None:
    rows = read_rows(Img2datasetWebdatasetReader(), img2dataset_out / "webdataset" / "00001.tar")
    success = [r for r in rows if r["status"] == "success"]
    assert len(success) == 8
    assert all(json.loads(r["extra"])["image_file"] == f"{r['key']}.jpg" for r in success)
    assert [r["source_row"] for r in rows] == list(range(10))
    assert rows[-1]["key"] in FAILED  # failures come from the sidecar, after the tar


def test_image_only_tars_refused_by_default(shared_data: Path) -> None:
    root = shared_data / "clip-retrieval/tests/test_clip_inference/test_tars"
    reader = Img2datasetWebdatasetReader()
    source = reader.sources(root)[0]
    with pytest.raises(InputError, match="allow-missing-url") as info:
        next(reader.batches(source, 10))
    assert "image1.tar" in str(info.value)


def test_image_only_tars_when_allowed(shared_data: Path, read_rows: ReadRows) -> None:
    root = shared_data / "clip-retrieval/tests/test_clip_inference/test_tars"
    rows = read_rows(Img2datasetWebdatasetReader(ReaderOptions(allow_missing_url=True)), root)
    assert len(rows) == 4 + 3 + 2 + 2
    assert rows[0]["key"] == "123_456"
    assert json.loads(rows[0]["extra"]) == {"image_file": "123_456.jpg"}
    assert all(r["url"] is None for r in rows)


def _tar_with(path: Path, members: dict[str, bytes]) -> None:
    with tarfile.open(path, "w") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def test_tar_without_json_uses_sidecar(
    img2dataset_out: Path, read_rows: ReadRows, tmp_path: Path
) -> None:
    shutil.copy(img2dataset_out / "webdataset" / "00001.parquet", tmp_path / "00001.parquet")
    _tar_with(tmp_path / "00001.tar", {"000011.jpg": b"\xff\xd8", "000012.jpg": b"\xff\xd8"})
    rows = read_rows(Img2datasetWebdatasetReader(), tmp_path)
    assert len(rows) == 10
    assert rows[0]["key"] == "000011"
    assert rows[0]["url"] == "http://127.0.0.1:18765/008e55802c9e2f90.jpg"


def test_bad_json_member_is_a_bad_row(tmp_path: Path, read_rows: ReadRows) -> None:
    good = json.dumps({"url": "http://example.com/a.jpg", "key": "000000", "status": "success"})
    members = {"000000.json": good.encode(), "000001.json": b"{not json", "000001.jpg": b"x"}
    _tar_with(tmp_path / "00000.tar", members)
    with pytest.raises(BadRowError, match=r"000001\.json is not valid JSON") as info:
        read_rows(Img2datasetWebdatasetReader(), tmp_path)
    assert info.value.row == 1
    rejected: list[BadRowError] = []
    rows = read_rows(
        Img2datasetWebdatasetReader(ReaderOptions(on_bad_row=rejected.append)), tmp_path
    )
    assert [r["key"] for r in rows] == ["000000"]
    assert len(rejected) == 1


def test_truncated_tar(img2dataset_out: Path, tmp_path: Path) -> None:
    data = (img2dataset_out / "webdataset" / "00000.tar").read_bytes()
    (tmp_path / "00000.tar").write_bytes(data[: len(data) // 3])
    reader = Img2datasetWebdatasetReader(ReaderOptions(allow_missing_url=True))
    with pytest.raises(InputError, match="not a readable tar shard") as info:
        list(reader.batches(reader.sources(tmp_path)[0], 100))
    assert "00000.tar" in str(info.value)


def test_files_form_single_shard_folder(img2dataset_out: Path, read_rows: ReadRows) -> None:
    rows = read_rows(Img2datasetFilesReader(), img2dataset_out / "files" / "00000")
    assert sorted(r["key"] for r in rows) == [f"{i:06d}" for i in range(10)]
    assert {r["_source"] for r in rows} == {"00000"}


def test_rejected_sample_is_not_revived_from_sidecar(
    img2dataset_out: Path, tmp_path: Path, read_rows: ReadRows
) -> None:
    with tarfile.open(img2dataset_out / "webdataset" / "00001.tar") as archive:
        members = {
            m.name: (archive.extractfile(m) or io.BytesIO()).read() for m in archive.getmembers()
        }
    members["000011.json"] = b'{"url": '
    members["000012.txt"] = b"IMG_\xff"
    _tar_with(tmp_path / "00001.tar", members)
    shutil.copy(img2dataset_out / "webdataset" / "00001.parquet", tmp_path / "00001.parquet")
    rejected: list[BadRowError] = []
    rows = read_rows(
        Img2datasetWebdatasetReader(ReaderOptions(on_bad_row=rejected.append)), tmp_path
    )
    assert sorted(str(e).split(" ")[0] for e in rejected) == ["000011.json", "000012.txt"]
    assert sorted(r["key"] for r in rows) == ["000010", *(f"0000{i}" for i in range(13, 20))]
    assert {"000011", "000012"}.isdisjoint(r["key"] for r in rows)
