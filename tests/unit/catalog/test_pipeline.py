"""Ingest is streaming, shard-atomic and resumable, and bad rows are named or logged."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from traindex.catalog.store import Catalog
from traindex.config import Settings
from traindex.errors import InputError
from traindex.ingest.pipeline import ingest
from traindex.ingest.shards import IngestListener
from traindex.search.queries import Query
from traindex.search.service import SearchService

pytestmark = pytest.mark.shared


def _manifest(settings: Settings, name: str = "laion400m") -> dict[str, object]:
    path = settings.datasets_dir / name / "main" / "manifest.json"
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def test_ingest_counts_rows_and_records_provenance(
    small_settings: Settings, laion_folder: Path
) -> None:
    report = ingest(
        small_settings, laion_folder, dataset="laion400m", release="main", skip_bad_rows=True
    )
    assert (report.sources_ingested, report.sources_skipped) == (3, 0)
    manifest = _manifest(small_settings)
    sources = manifest["sources"]
    assert isinstance(sources, list)
    assert [s["relpath"] for s in sources] == [f"part-{i:05d}.parquet" for i in range(3)]
    assert sum(s["rows"] for s in sources) == report.rows
    # one real LAION row is column-shifted: its URL is the NSFW tag "UNLIKELY"
    assert (report.rows, report.rejected) == (9_999, 1)
    assert all(len(s["sha256"]) == 64 for s in sources)
    assert manifest["format"] == "laion"


def test_rerun_skips_finished_sources(small_settings: Settings, laion_folder: Path) -> None:
    ingest(small_settings, laion_folder, dataset="laion400m", release="main", skip_bad_rows=True)
    again = ingest(
        small_settings, laion_folder, dataset="laion400m", release="main", skip_bad_rows=True
    )
    assert (again.sources_ingested, again.sources_skipped) == (0, 3)


def test_failed_source_leaves_catalog_as_before_and_resumes(
    small_settings: Settings, laion_folder: Path, laion_rows: pa.Table
) -> None:
    broken = laion_folder / "part-00001.parquet"
    good_bytes = broken.read_bytes()
    broken.write_bytes(good_bytes[: len(good_bytes) // 2])
    with pytest.raises(InputError, match=r"part-00001\.parquet"):
        ingest(
            small_settings, laion_folder, dataset="laion400m", release="main", skip_bad_rows=True
        )
    manifest = _manifest(small_settings)
    assert [s["relpath"] for s in manifest["sources"]] == ["part-00000.parquet"]  # type: ignore[union-attr]
    release_dir = small_settings.datasets_dir / "laion400m/main"
    assert sorted(p.name for p in (release_dir / "samples").iterdir()) == ["00000.parquet"]
    # a caption from the broken part is not searchable
    row = laion_rows.slice(5000, 1).to_pylist()[0]
    service = SearchService(Catalog(small_settings))
    result = service.search(Query("url", row["URL"]))
    assert result.total == 0
    broken.write_bytes(good_bytes)
    resumed = ingest(
        small_settings, laion_folder, dataset="laion400m", release="main", skip_bad_rows=True
    )
    assert (resumed.sources_ingested, resumed.sources_skipped) == (2, 1)
    assert SearchService(Catalog(small_settings)).search(Query("url", row["URL"])).total >= 1


def test_real_shifted_row_stops_ingest_by_default(
    small_settings: Settings, laion_folder: Path
) -> None:
    with pytest.raises(InputError) as info:
        ingest(small_settings, laion_folder, dataset="laion400m", release="main")
    message = str(info.value)
    assert "part-00001.parquet" in message
    assert "row 674" in message
    assert "UNLIKELY" in message
    manifest = _manifest(small_settings)
    assert [s["relpath"] for s in manifest["sources"]] == ["part-00000.parquet"]  # type: ignore[union-attr]


def _bad_url_file(tmp_path: Path) -> Path:
    rows = {
        "URL": [
            "https://example.com/a.jpg",
            "https://example.com/" + "x" * 100_000,
            "http://ex\x07ample.com/b.jpg",
            "https://example.org/c.jpg",
        ],
        "TEXT": ["ok", "too long", "control char", "also ok"],
    }
    path = tmp_path / "bad" / "part-0.parquet"
    path.parent.mkdir()
    pq.write_table(pa.table(rows), path)
    return path.parent


def test_bad_row_fails_naming_file_and_row(small_settings: Settings, tmp_path: Path) -> None:
    folder = _bad_url_file(tmp_path)
    with pytest.raises(InputError) as info:
        ingest(small_settings, folder, dataset="bad", release="main")
    assert "part-0.parquet" in str(info.value)
    assert "row 1" in str(info.value)
    assert not list(Catalog(small_settings).releases())


def test_skip_bad_rows_logs_reasons(small_settings: Settings, tmp_path: Path) -> None:
    folder = _bad_url_file(tmp_path)
    report = ingest(small_settings, folder, dataset="bad", release="main", skip_bad_rows=True)
    assert (report.rows, report.rejected) == (2, 2)
    log = pq.read_table(small_settings.datasets_dir / "bad/main/rejected/00000.parquet").to_pylist()
    assert [r["row"] for r in log] == [1, 2]
    assert all(r["column"] == "url" and "part-0.parquet" in r["file"] for r in log)


def test_missing_url_column_names_columns(small_settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "renamed.parquet"
    pq.write_table(pa.table({"LINK": ["https://example.com/"], "TEXT": ["x"]}), path)
    with pytest.raises(InputError, match=r"LINK.*--columns|--columns.*LINK"):
        ingest(small_settings, path, dataset="renamed", release="main", fmt="laion")
    assert not list(Catalog(small_settings).releases())


def test_failed_download_rows_are_counted_not_searchable(
    small_settings: Settings, shared_data: Path
) -> None:
    out = shared_data / "_generated/img2dataset-1.47.0-output-cc3m-test-images/parquet"
    report = ingest(small_settings, out, dataset="cc3m", release="main")
    assert (report.rows, report.failed) == (18, 2)


def test_embedding_layout_rows_keep_their_vector_location(
    small_settings: Settings, shared_data: Path
) -> None:
    root = shared_data / "_generated/clip-retrieval-vitb32-embeddings-laion-layout"
    report = ingest(small_settings, root, dataset="emb", release="main")
    assert report.rows == 7
    shard = pq.read_table(small_settings.datasets_dir / "emb/main/samples/00000.parquet")
    assert shard.column("emb_file").to_pylist() == ["img_emb/img_emb_0.npy"] * 7
    assert shard.column("emb_row").to_pylist() == list(range(7))
    assert shard.column("url").null_count == 7  # local files: no URL, found by key or image


def test_image_only_tars_need_allow_missing_url(
    small_settings: Settings, shared_data: Path
) -> None:
    from traindex.ingest.base import ReaderOptions

    tars = shared_data / "clip-retrieval/tests/test_clip_inference/test_tars"
    with pytest.raises(InputError, match="allow-missing-url"):
        ingest(small_settings, tars, dataset="tars", release="main")
    report = ingest(
        small_settings,
        tars,
        dataset="tars",
        release="main",
        options=ReaderOptions(allow_missing_url=True),
    )
    assert (report.sources_ingested, report.rows, report.rejected) == (4, 11, 0)


def test_listener_gets_the_rows_parquet_footers_record(
    small_settings: Settings, laion_folder: Path
) -> None:
    totals: list[int | None] = []
    listener = IngestListener(on_start=lambda sources, rows: totals.append(rows))
    later = laion_folder.parent / "later.parquet"
    (laion_folder / "part-00002.parquet").rename(later)

    def run() -> None:
        ingest(
            small_settings,
            laion_folder,
            dataset="l",
            release="main",
            skip_bad_rows=True,
            listener=listener,
        )

    run()
    later.rename(laion_folder / "part-00002.parquet")
    run()
    # parts 0 and 1 first, then only the part still to read
    assert totals == [7_000, 3_000]
