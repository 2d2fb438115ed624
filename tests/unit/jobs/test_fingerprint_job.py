"""The fingerprint job over real img2dataset outputs, and image search against it."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image
from skimage import data as skdata

from traindex.catalog.store import Catalog
from traindex.config import Settings
from traindex.core.match_evidence import ImageEvidence
from traindex.ingest.pipeline import ingest
from traindex.jobs.fingerprint import fingerprint
from traindex.search.images import ImageSearch

pytestmark = pytest.mark.shared

OUT = "_generated/img2dataset-1.47.0-output-cc3m-test-images"
PHOTOS = "conceptual-captions/competition/skeleton/conceptual-captions/test_images"


def _photos(shared: Path) -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in sorted((shared / PHOTOS).glob("*.jpg"))]


def _edited(data: bytes) -> bytes:
    """What a dataset copy looks like: smaller, grey, heavily re-compressed."""
    image = Image.open(io.BytesIO(data))
    small = image.resize((300, round(300 * image.height / image.width))).convert("L")
    buffer = io.BytesIO()
    small.save(buffer, "JPEG", quality=30)
    return buffer.getvalue()


@pytest.mark.parametrize("form", ["webdataset", "files", "parquet"])
def test_every_original_is_found_in_every_output_form(
    settings: Settings, shared_data: Path, form: str
) -> None:
    ingest(settings, shared_data / OUT / form, dataset="cc3m", release="main")
    [report] = fingerprint(settings, "cc3m", workers=1)
    assert (report.images, report.errors, report.shards) == (18, 0, 2)
    result = ImageSearch(Catalog(settings)).search(_photos(shared_data))
    by_query = {m.query: m for m in result.matches}
    assert set(by_query) == {name for name, _ in _photos(shared_data)}
    for name, match in by_query.items():
        assert match.url.endswith(name)  # each original finds its own row, no other
        assert match.method == "same_file"  # img2dataset recorded the original's sha256
    assert result.to_json()["not_found"] == []


def test_edited_copy_is_same_image_and_unrelated_photo_is_not_found(
    settings: Settings, shared_data: Path
) -> None:
    ingest(settings, shared_data / OUT / "files", dataset="cc3m", release="main")
    fingerprint(settings, "cc3m", workers=2)
    photos = dict(_photos(shared_data))
    queries = [("edited.jpg", _edited(photos["0053e4fc02b27650.jpg"]))]
    queries.append(
        ("astronaut.png", (shared_data.parent / "data" / PHOTOS).joinpath("x").name.encode())
    )

    buffer = io.BytesIO()
    Image.fromarray(skdata.astronaut()).save(buffer, "PNG")
    queries[1] = ("astronaut.png", buffer.getvalue())
    result = ImageSearch(Catalog(settings)).search(queries)
    [match] = result.matches
    assert (match.query, match.method) == ("edited.jpg", "same_image")
    assert match.url.endswith("0053e4fc02b27650.jpg")
    assert match.evidence_as(ImageEvidence).distance <= 31
    assert match.evidence_as(ImageEvidence).confidence in ("certain", "likely")
    assert result.to_json()["not_found"] == ["astronaut.png"]


def test_rerun_skips_done_shards(settings: Settings, shared_data: Path) -> None:
    ingest(settings, shared_data / OUT / "webdataset", dataset="cc3m", release="main")
    fingerprint(settings, "cc3m", workers=1)
    [again] = fingerprint(settings, "cc3m", workers=1)
    assert (again.shards_skipped, again.images, again.hashes_indexed) == (2, 0, 0)


def test_folder_images_with_a_corrupt_file(
    settings: Settings, tmp_path: Path, shared_data: Path
) -> None:
    credits = shared_data / PHOTOS / "credits.csv"
    ingest(settings, credits, dataset="credits", release="main")
    folder = tmp_path / "images"
    folder.mkdir()
    for name, data in _photos(shared_data)[:5]:
        (folder / name).write_bytes(data)
    (folder / "0099d4cbcd86d84d.jpg").write_bytes(b"<html>not an image</html>")
    [report] = fingerprint(settings, "credits", images=folder, workers=1)
    assert (report.images, report.errors) == (6, 1)
    errors = pq.read_table(settings.datasets_dir / "credits/main/fingerprints/00000.parquet")
    bad = [r for r in errors.to_pylist() if r["error"]]
    assert [r["key"] for r in bad] == ["0099d4cbcd86d84d"]
    assert "0099d4cbcd86d84d.jpg" in bad[0]["error"]


def test_pdq_hits_equal_brute_force(settings: Settings, shared_data: Path) -> None:
    ingest(settings, shared_data / OUT / "files", dataset="cc3m", release="main")
    fingerprint(settings, "cc3m", workers=1)
    release = settings.datasets_dir / "cc3m/main"
    table = pa.concat_tables(
        pq.read_table(p) for p in sorted((release / "fingerprints").glob("*.parquet"))
    )
    rows = table.to_pylist()
    pairs = [(r["key"], r[c]) for r in rows for c in ("pdq", "pdq_trim") if r[c] is not None]
    stored = np.frombuffer(b"".join(h for _, h in pairs), np.uint8).reshape(-1, 32)
    search = ImageSearch(Catalog(settings))
    result = search.search(_photos(shared_data))
    for qi, fps in enumerate(result.query_hashes):
        query = np.frombuffer(b"".join(f.digest for f in fps), np.uint8).reshape(-1, 32)
        distances = np.unpackbits(query[:, None, :] ^ stored[None, :, :], axis=2).sum(axis=2)
        within = set(np.flatnonzero((distances <= 31).any(axis=0)).tolist())
        expected = {pairs[i][0] for i in within}
        name = result.queries[qi].name
        found = {
            m.key
            for m in result.matches
            if m.query == name and m.evidence_as(ImageEvidence).distance is not None
        }
        assert found == expected, name


def test_identical_file_hashes_identically_on_both_sides(
    settings: Settings, tmp_path: Path, shared_data: Path
) -> None:
    """Dataset side and query side share one decode/hash path: distance 0 for the same file."""
    ingest(settings, shared_data / PHOTOS / "credits.csv", dataset="credits", release="main")
    folder = tmp_path / "images"
    folder.mkdir()
    photos = _photos(shared_data)
    for name, data in photos:
        (folder / name).write_bytes(data)
    fingerprint(settings, "credits", images=folder, workers=1)
    result = ImageSearch(Catalog(settings)).search(photos)
    assert len(result.matches) == 18
    assert {(m.method, m.evidence_as(ImageEvidence).distance) for m in result.matches} == {
        ("same_file", 0)
    }
