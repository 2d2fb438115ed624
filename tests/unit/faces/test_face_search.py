"""Face search over a gallery release fingerprinted with ``--faces``: right people, no
strangers, group photos refused as queries, results equal to a brute-force scan."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from traindex.catalog.store import Catalog
from traindex.config import Settings
from traindex.core.match_evidence import FaceEvidence
from traindex.fingerprint.faces import FaceOptions
from traindex.ingest.pipeline import ingest
from traindex.jobs.fingerprint import fingerprint
from traindex.search.faces import FaceQueryError, FaceSearch, face_distance

pytestmark = pytest.mark.shared

PhotoLoader = Callable[[str], bytes]
Encoder = Callable[..., bytes]
GalleryWriter = Callable[[Path, dict[str, str] | None], Path]
KNN = "examples/knn_examples"


def _faces(settings: Settings) -> pa.Table:
    folder = settings.datasets_dir / "gallery/main/faces"
    return pa.concat_tables(pq.read_table(p) for p in sorted(folder.glob("*.parquet")))


def _keys_of(gallery_people: dict[str, set[str]], people: set[str]) -> set[str]:
    return {key for key, who in gallery_people.items() if who & people}


def test_gallery_faces_are_recorded_per_face(
    gallery: Settings, gallery_people: dict[str, set[str]]
) -> None:
    rows = _faces(gallery).to_pylist()
    by_key: dict[str, list[dict[str, object]]] = {}
    for row in rows:
        by_key.setdefault(str(row["key"]), []).append(row)
    assert set(by_key) == set(gallery_people)
    assert [r["face"] for r in by_key["pair"]] == [0, 1]  # the two-person photo: two faces
    assert all(r["embedding"] is not None for r in by_key["pair"])
    [coffee] = by_key["coffee"]
    assert (coffee["face"], coffee["error"], coffee["embedding"]) == (-1, None, None)
    [broken] = by_key["broken"]
    assert "markup" in str(broken["error"])
    embedded = [r for r in rows if r["embedding"] is not None]
    assert len(embedded) == 12  # 10 one-face photos + 2 faces in the pair photo


@pytest.mark.parametrize(
    ("query", "people"),
    [
        (f"{KNN}/test/obama1.jpg", {"obama"}),
        (f"{KNN}/test/alex_lacamoire1.jpg", {"alex"}),
        (f"{KNN}/test/johnsnow_test1.jpg", {"kit"}),
        ("examples/alex-lacamoire.png", {"alex"}),
        ("tests/test_images/obama_partial_face.jpg", {"obama"}),
        ("skimage:astronaut", set()),
    ],
)
def test_same_person_is_found_and_nobody_else(
    gallery: Settings,
    gallery_people: dict[str, set[str]],
    photo: PhotoLoader,
    query: str,
    people: set[str],
) -> None:
    result = FaceSearch(Catalog(gallery)).search(photo(query), name=query)
    assert {m.key for m in result.matches} == _keys_of(gallery_people, people)
    for match in result.matches:
        assert match.method == "same_face"
        face = match.evidence_as(FaceEvidence)
        assert 0 <= face.distance <= face.threshold == 0.6
        assert face.confidence in ("likely", "possible")
        assert face.face_source == "hog"
    distances = [face_distance(m) for m in result.matches]
    assert distances == sorted(distances)


def test_cropped_face_from_a_group_photo_finds_both_photos_of_that_person(
    gallery: Settings, face_root: Path, encoder: Encoder
) -> None:
    group = Image.open(face_root / f"{KNN}/test/obama_and_biden.jpg").convert("RGB")
    biden = group.crop((600, 300, 1050, 800))  # the user crops the photo to their own face
    result = FaceSearch(Catalog(gallery)).search(encoder(biden, "JPEG"))
    assert {m.key for m in result.matches} == {"biden_a", "biden_b", "pair"}
    pair = next(m for m in result.matches if m.key == "pair")
    # Biden is the right-hand face of the pair
    assert pair.evidence_as(FaceEvidence).face_box["left"] > 500


def test_matches_carry_provenance_but_no_identity_labels(
    gallery: Settings, photo: PhotoLoader
) -> None:
    result = FaceSearch(Catalog(gallery)).search(photo("examples/obama.jpg"))
    data = result.to_json()
    assert data["query"]["kind"] == "face"
    assert data["searched_releases"] == ["gallery/main"]
    assert set(data["query"]["face"]) == {"box", "size", "quality", "source", "skipped"}
    for match in data["matches"]:
        assert match["caption"] is None  # captions can name the person in the photo
        assert "flickr_owner" not in match
        assert "embedding" not in str(match)
        assert match["url"].startswith("https://photos.example.org/")
        assert {"dataset", "release", "shard", "row", "distance", "threshold"} <= set(match)


def test_two_person_photo_is_refused_as_a_query_with_its_boxes(
    gallery: Settings, photo: PhotoLoader
) -> None:
    with pytest.raises(FaceQueryError) as caught:
        FaceSearch(Catalog(gallery)).search(photo("examples/two_people.jpg"), name="two.jpg")
    message = str(caught.value)
    assert "exactly one face, 2 were found" in message
    assert "(253,47)-(409,203)" in message
    assert "two.jpg" in message
    assert len(caught.value.faces) == 2


def test_photo_without_a_face_and_tiny_face_are_refused(
    gallery: Settings, photo: PhotoLoader, face_root: Path, encoder: Encoder
) -> None:
    search = FaceSearch(Catalog(gallery))
    with pytest.raises(FaceQueryError, match="no face found"):
        search.search(photo("skimage:coffee"))
    tiny = Image.open(face_root / "examples/obama.jpg").convert("RGB").resize((110, 137))
    with pytest.raises(FaceQueryError, match=r"too small: face is 3[0-9] px across"):
        search.search(encoder(tiny))


def test_results_equal_a_brute_force_scan_of_the_face_tables(
    gallery: Settings, photo: PhotoLoader
) -> None:
    table = _faces(gallery).filter(pa.compute.is_valid(_faces(gallery).column("embedding")))
    stored = np.asarray(table.column("embedding").to_pylist(), dtype=np.float64)
    keys = table.column("key").to_pylist()
    search = FaceSearch(Catalog(gallery))
    for query in ("examples/obama2.jpg", f"{KNN}/test/johnsnow_test1.jpg", "examples/biden.jpg"):
        face = search.query_face(photo(query))
        assert face.embedding is not None
        distances = np.linalg.norm(stored - face.embedding.astype(np.float64), axis=1)
        expected = {keys[i]: float(distances[i]) for i in np.flatnonzero(distances <= 0.6)}
        got = {m.key: face_distance(m) for m in search.search(photo(query)).matches}
        assert set(got) == set(expected), query
        for key, distance in got.items():
            assert abs(distance - expected[key]) < 1e-3


def test_dataset_face_boxes_are_used_and_rerun_adds_nothing(
    tmp_path: Path, gallery_writer: GalleryWriter, photo: PhotoLoader
) -> None:
    settings = Settings(home=tmp_path / "home")
    boxes = {"pair": "[[0.2247, 0.0711, 0.3632, 0.3071]]"}  # only the left face, as DataComp
    table = gallery_writer(tmp_path / "images", boxes)
    ingest(settings, table, dataset="gallery", release="main")
    [report] = fingerprint(settings, "gallery", images=tmp_path / "images", faces=FaceOptions())
    assert (report.face_images, report.faces_indexed) == (13, 11)
    pair = [r for r in _faces(settings).to_pylist() if r["key"] == "pair"]
    assert [(r["source"], r["quality"]) for r in pair] == [("dataset", None)]
    [again] = fingerprint(settings, "gallery", images=tmp_path / "images", faces=FaceOptions())
    assert (again.face_images, again.faces_indexed) == (0, 0)
    result = FaceSearch(Catalog(settings)).search(photo(f"{KNN}/test/obama1.jpg"))
    assert {m.key for m in result.matches} == {"obama_a", "obama_b", "pair"}


@pytest.mark.slow
def test_ray_and_local_write_identical_face_tables(
    tmp_path: Path, gallery_writer: GalleryWriter
) -> None:
    table = gallery_writer(tmp_path / "images", None)
    tables = {}
    for mode in ("local", "ray"):
        settings = Settings(home=tmp_path / mode)
        ingest(settings, table, dataset="gallery", release="main")
        [report] = fingerprint(
            settings,
            "gallery",
            images=tmp_path / "images",
            distributor=mode,
            workers=2,
            faces=FaceOptions(),
        )
        assert report.faces_indexed == 12
        tables[mode] = _faces(settings).to_pylist()
    assert tables["ray"] == tables["local"]
