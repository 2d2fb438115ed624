"""Auto-detection on every real sample, on built files, on ambiguous input, and --format."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from traindex.errors import InputError
from traindex.ingest.base import ReaderOptions
from traindex.ingest.detect import READERS, detect_reader, sniff_scores

pytestmark = pytest.mark.shared
CC3M = "conceptual-captions/competition/skeleton/conceptual-captions/test_images"
I2D = "_generated/img2dataset-1.47.0-output-cc3m-test-images"

SAMPLES = [
    ("img2dataset/tests/test_files/test_1000.parquet", "laion"),
    ("img2dataset/tests/test_files/test_10000.parquet", "laion"),
    ("img2dataset/tests/test_files/test_1000.txt", "urls-txt"),
    ("img2dataset/tests/test_files/test_10000.txt", "urls-txt"),
    ("img2dataset/tests/test_files/unique_images.txt", "urls-txt"),
    ("img2dataset/tests/test_files/sample_image.txt", "urls-txt"),
    ("img2dataset/tests/test_files/sample_image.parquet", "table"),
    ("img2dataset/tests/blur_test_files/test_bbox.parquet", "table"),
    (f"{I2D}/input.parquet", "table"),
    (f"{I2D}/parquet", "img2dataset-parquet"),
    (f"{I2D}/parquet/00000.parquet", "img2dataset-parquet"),
    (f"{I2D}/webdataset", "img2dataset-webdataset"),
    (f"{I2D}/webdataset/00001.tar", "img2dataset-webdataset"),
    (f"{I2D}/files", "img2dataset-files"),
    (f"{I2D}/files/00001", "img2dataset-files"),
    ("_generated/clip-retrieval-vitb32-embeddings-laion-layout", "laion-embeddings"),
    ("_generated/coyo-700m-readme-preview/coyo700m_readme_preview.parquet", "coyo"),
    ("_generated/coyo-700m-readme-preview/coyo700m_readme_preview.csv", "table"),
    (f"{CC3M}/credits.csv", "table"),
    ("clip-retrieval/tests/test_clip_inference/test_tars", "img2dataset-webdataset"),
]


@pytest.mark.parametrize(("relpath", "fmt"), SAMPLES)
def test_every_sample(shared_data: Path, relpath: str, fmt: str) -> None:
    assert detect_reader(shared_data / relpath).format == fmt


def test_every_format_is_registered() -> None:
    assert set(READERS) == {
        "laion",
        "laion2b-raw",
        "laion-embeddings",
        "datacomp",
        "coyo",
        "cc3m-tsv",
        "cc12m-tsv",
        "yfcc100m",
        "urls-txt",
        "img2dataset-parquet",
        "img2dataset-webdataset",
        "img2dataset-files",
        "table",
    }
    assert all(reader.format == name for name, reader in READERS.items())


def test_unrecognised(shared_data: Path) -> None:
    with pytest.raises(InputError, match=r"cannot tell the dataset format.*--format"):
        detect_reader(shared_data / CC3M / ".." / "test_images.txt")


def test_ambiguous_raw_looking_laion(tmp_path: Path) -> None:
    path = tmp_path / "part-00000.parquet"
    table = pa.table(
        {"URL": ["http://a.example/x.jpg"], "TEXT": ["x"], "WIDTH": [1], "HEIGHT": [2]}
    )
    pq.write_table(table, path)
    with pytest.raises(InputError, match=r"ambiguous format: laion, laion2b-raw.*--format"):
        detect_reader(path)
    assert detect_reader(path, "laion2b-raw").format == "laion2b-raw"


def test_format_override_and_options(shared_data: Path) -> None:
    options = ReaderOptions(swap_width_height=True)
    reader = detect_reader(shared_data / CC3M / "credits.csv", "table", options)
    assert reader.options is options
    with pytest.raises(InputError, match=r"unknown format 'laion5b'; known formats: .*yfcc100m"):
        detect_reader(shared_data, "laion5b")


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        detect_reader(tmp_path / "nope")


def test_sniff_reads_no_data(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("sniffing must not read row data")

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", forbidden)
    monkeypatch.setattr(pq.ParquetFile, "read", forbidden)
    monkeypatch.setattr(pq, "read_table", forbidden)
    scores = sniff_scores(shared_data / "img2dataset/tests/test_files/test_10000.parquet")
    assert next(iter(scores)) == "laion"
