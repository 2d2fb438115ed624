"""Face detection + embedding on real photos: who matches whom, and every kind of bad input."""

from __future__ import annotations

import itertools
import struct
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image, ImageOps

from traindex.fingerprint.faces import (
    FaceFingerprinter,
    FaceOptions,
    parse_dataset_boxes,
)
from traindex.fingerprint.images import ImageDecodeError, ImageTooLargeError

PhotoLoader = Callable[[str], bytes]
Encoder = Callable[..., bytes]

pytestmark = pytest.mark.shared

THRESHOLD = 0.6
Embeddings = dict[str, tuple[str, NDArray[np.float32]]]


def _distance(a: NDArray[np.float32], b: NDArray[np.float32]) -> float:
    return float(np.linalg.norm(a - b))


def test_same_person_matches_and_different_people_do_not(embeddings: Embeddings) -> None:
    same: list[tuple[float, str, str]] = []
    different: list[tuple[float, str, str]] = []
    for (ref_a, (who_a, a)), (ref_b, (who_b, b)) in itertools.combinations(embeddings.items(), 2):
        (same if who_a == who_b else different).append((_distance(a, b), ref_a, ref_b))
    assert len(same) == 14
    assert len(different) == 106
    assert max(same)[0] < THRESHOLD, max(same)
    assert min(different)[0] > THRESHOLD, min(different)


def test_astronaut_is_nobody_else(embeddings: Embeddings) -> None:
    _, astronaut = embeddings["skimage:astronaut"]
    others = [
        _distance(astronaut, e) for ref, (_, e) in embeddings.items() if "astronaut" not in ref
    ]
    assert min(others) > 0.7


def test_two_person_photo_gives_two_faces_in_reading_order(
    fingerprinter: FaceFingerprinter, embeddings: Embeddings, photo: PhotoLoader
) -> None:
    scan = fingerprinter.scan(photo("examples/two_people.jpg"))
    assert scan.image_size == (1126, 661)
    assert len(scan.embedded) == 2
    left, right = scan.faces
    assert left.box.right <= right.box.left  # reading order, boxes do not overlap
    assert left.source == "hog"
    assert left.quality is not None
    assert left.size > 100
    _, obama = embeddings["examples/obama.jpg"]
    _, biden = embeddings["examples/knn_examples/train/biden/biden2.jpg"]
    assert left.embedding is not None
    assert right.embedding is not None
    assert _distance(left.embedding, obama) < THRESHOLD < _distance(left.embedding, biden)
    assert _distance(right.embedding, biden) < THRESHOLD < _distance(right.embedding, obama)


def _obama(face_root: Path) -> Image.Image:
    return Image.open(face_root / "examples/obama.jpg").convert("RGB")


def test_tiny_face_is_kept_with_a_reason_not_embedded(
    face_root: Path, fingerprinter: FaceFingerprinter, encoder: Encoder
) -> None:
    small = ImageOps.contain(_obama(face_root), (110, 200))
    [face] = fingerprinter.scan(encoder(small)).faces
    assert face.embedding is None
    assert face.skipped is not None
    assert f"{face.size} px" in face.skipped
    assert "40-px minimum" in face.skipped
    lenient = FaceFingerprinter(FaceOptions(min_face=20))
    assert len(lenient.scan(encoder(small)).embedded) == 1


def test_exif_rotated_photo_is_analysed_upright(
    face_root: Path, fingerprinter: FaceFingerprinter, embeddings: Embeddings, encoder: Encoder
) -> None:
    upright = _obama(face_root)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display": the pixels are stored turned left
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    scan = fingerprinter.scan(encoder(stored, "JPEG", quality=95, exif=exif.tobytes()))
    assert scan.image_size == upright.size
    [face] = scan.embedded
    assert face.embedding is not None
    assert _distance(face.embedding, embeddings["examples/obama.jpg"][1]) < 0.15
    assert face.box.top < upright.height / 2  # box in upright coordinates: face near the top
    sideways = fingerprinter.scan(encoder(stored, "JPEG", quality=95))
    assert sideways.faces == []  # without the EXIF hint the frontal detector sees no face


def test_grayscale_and_alpha_photos_work(
    face_root: Path,
    fingerprinter: FaceFingerprinter,
    embeddings: Embeddings,
    photo: PhotoLoader,
    encoder: Encoder,
) -> None:
    gray = fingerprinter.scan(encoder(_obama(face_root).convert("L"), "JPEG"))
    [face] = gray.embedded
    assert face.embedding is not None
    assert _distance(face.embedding, embeddings["examples/obama.jpg"][1]) < THRESHOLD
    rgba = fingerprinter.scan(photo("tests/test_images/32bit.png"))
    assert len(rgba.embedded) == 1


def _png_header_claiming(width: int, height: int) -> bytes:
    """A PNG whose header declares ``width x height`` (a decompression-bomb shape)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    body = struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    idat = zlib.compress(b"\0" * 64)
    body += (
        struct.pack(">I", len(idat))
        + b"IDAT"
        + idat
        + struct.pack(">I", zlib.crc32(b"IDAT" + idat))
    )
    return b"\x89PNG\r\n\x1a\n" + body


def test_huge_and_broken_images_are_refused_clearly(
    fingerprinter: FaceFingerprinter, photo: PhotoLoader
) -> None:
    with pytest.raises(
        ImageTooLargeError, match=r"12,000 x 12,000 = 144 megapixels.* refused without decoding"
    ):
        fingerprinter.scan(_png_header_claiming(12_000, 12_000), name="bomb.png")
    with pytest.raises(
        ImageTooLargeError, match=r"over the limit of 100 megapixels.*file bomb\.png"
    ):
        fingerprinter.scan(_png_header_claiming(50_000, 50_000), name="bomb.png")
    strict = FaceFingerprinter(FaceOptions(max_pixels=1_000_000))
    with pytest.raises(ImageTooLargeError, match="more than the limit of 1 megapixels per image"):
        strict.scan(photo("examples/knn_examples/test/obama_and_biden.jpg"))
    with pytest.raises(ImageDecodeError, match=r"markup .*file x\.jpg"):
        fingerprinter.scan(b"<html>no</html>", name="x.jpg")
    with pytest.raises(ImageDecodeError, match="empty file"):
        fingerprinter.scan(b"")


def test_large_photo_is_analysed_scaled_down_with_boxes_in_file_pixels(
    embeddings: Embeddings, photo: PhotoLoader
) -> None:
    data = photo("tests/test_images/obama3.jpg")  # 1434 x 2333
    full = FaceFingerprinter(FaceOptions(max_side=2400)).scan(data)
    scaled = FaceFingerprinter(FaceOptions(max_side=800)).scan(data)
    [a], [b] = full.embedded, scaled.embedded
    assert scaled.image_size == full.image_size == (1434, 2333)
    centre_a = ((a.box.left + a.box.right) / 2, (a.box.top + a.box.bottom) / 2)
    centre_b = ((b.box.left + b.box.right) / 2, (b.box.top + b.box.bottom) / 2)
    assert np.hypot(centre_a[0] - centre_b[0], centre_a[1] - centre_b[1]) < 0.1 * a.box.width
    assert 0.7 < b.box.width / a.box.width < 1.3
    assert b.size < a.size  # the analysed face is smaller, its box is not
    assert a.embedding is not None
    assert b.embedding is not None
    assert _distance(a.embedding, b.embedding) < 0.2


def test_dataset_boxes_replace_the_detector(
    fingerprinter: FaceFingerprinter, photo: PhotoLoader
) -> None:
    data = photo("examples/two_people.jpg")
    detected = fingerprinter.scan(data)
    width, height = detected.image_size
    boxes = [
        (f.box.left / width, f.box.top / height, f.box.right / width, f.box.bottom / height)
        for f in detected.faces
    ]
    given = fingerprinter.scan(data, dataset_boxes=boxes)
    assert [f.source for f in given.faces] == ["dataset", "dataset"]
    assert [f.quality for f in given.faces] == [None, None]
    for a, b in zip(detected.faces, given.faces, strict=True):
        assert a.embedding is not None
        assert b.embedding is not None
        assert _distance(a.embedding, b.embedding) < 0.05
    assert fingerprinter.scan(data, dataset_boxes=[]).faces == []


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("[[0.6, 0.41, 0.86, 0.61]]", [(0.6, 0.41, 0.86, 0.61)]),
        ("[]", []),
        (None, None),
        ("", None),
        ("not json", None),
        ("[[0.5, 0.5, 0.4, 0.9]]", None),  # x2 < x1
        ("[[10, 20, 110, 120]]", None),  # pixels, not relative: detector instead
        ("[[0.1, 0.2, 0.3]]", None),
        ('{"a": 1}', None),
    ],
)
def test_parse_dataset_boxes(text: str | None, parsed: list[tuple[float, ...]] | None) -> None:
    assert parse_dataset_boxes(text) == parsed


@pytest.mark.slow
def test_cnn_detector_finds_the_same_face(embeddings: Embeddings, photo: PhotoLoader) -> None:
    cnn = FaceFingerprinter(FaceOptions(detector="cnn", upsample=0))
    [face] = cnn.scan(photo("examples/obama_small.jpg")).embedded
    assert face.source == "cnn"
    assert face.quality is not None
    assert face.quality > 0.5
    assert face.embedding is not None
    assert _distance(face.embedding, embeddings["examples/obama.jpg"][1]) < THRESHOLD


def test_options_are_validated() -> None:
    with pytest.raises(ValueError, match="detector"):
        FaceOptions(detector="mtcnn")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="upsample"):
        FaceOptions(upsample=5)


def test_concurrent_scans_give_the_sequential_answers(
    fingerprinter: FaceFingerprinter, embeddings: Embeddings, photo: PhotoLoader
) -> None:
    """A server scans from several threads; dlib's networks must not mix their calls."""
    refs = ["examples/obama.jpg", "examples/lin-manuel-miranda.png"] * 3
    with ThreadPoolExecutor(3) as pool:
        scans = list(pool.map(lambda ref: fingerprinter.scan(photo(ref)), refs))
    for ref, scan in zip(refs, scans, strict=True):
        [face] = scan.embedded
        assert face.embedding is not None
        np.testing.assert_allclose(face.embedding, embeddings[ref][1], atol=1e-5)
