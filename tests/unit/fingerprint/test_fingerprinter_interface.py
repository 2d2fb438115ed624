"""Every fingerprinter honours the one ``Fingerprinter`` shape: a ``kind`` and
``fingerprint(data, name=...)`` over the original file bytes, giving what the algorithm's
own entry point gives, and naming the source when the bytes cannot be decoded."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from PIL import Image

from traindex.errors import InputError
from traindex.fingerprint.base import Fingerprint, Fingerprinter
from traindex.fingerprint.exact import ExactFingerprinter, file_digest
from traindex.fingerprint.faces import FaceFingerprinter
from traindex.fingerprint.iscc import IsccFingerprinter, image_code
from traindex.fingerprint.keypoints import KeypointFingerprinter, KeypointOptions, dataset_points
from traindex.fingerprint.pdq import PdqFingerprinter

from .conftest import Encoder

NOT_AN_IMAGE = b"GIF89a but then nothing an image decoder could use"


def _all() -> list[Fingerprinter[Any]]:
    return [
        ExactFingerprinter(),
        PdqFingerprinter(),
        KeypointFingerprinter(),
        FaceFingerprinter(),
        IsccFingerprinter(),
    ]


def test_every_fingerprinter_is_one_and_names_a_distinct_kind() -> None:
    kinds = []
    for fingerprinter in _all():
        assert isinstance(fingerprinter, Fingerprinter)
        assert isinstance(fingerprinter.kind, str)
        assert fingerprinter.kind
        kinds.append(fingerprinter.kind)
    assert len(set(kinds)) == len(kinds)


def test_a_fingerprint_is_what_each_algorithm_entry_point_gives(
    astronaut: Image.Image, encode: Encoder
) -> None:
    data = encode(astronaut)
    exact = ExactFingerprinter().fingerprint(data, name="a.jpg")
    assert exact == Fingerprint("sha256", hashlib.sha256(data).digest())
    pdq = PdqFingerprinter().fingerprint(data, name="a.jpg")
    assert pdq.kind == "pdq"
    assert len(pdq.digest) == 32
    assert not pdq.low_quality
    points = KeypointFingerprinter().fingerprint(data, name="a.jpg")
    expected = dataset_points(data, KeypointOptions(), name="a.jpg")
    assert len(points) > 0
    assert points.to_bytes() == expected.to_bytes()
    assert IsccFingerprinter().fingerprint(data, name="a.jpg") == image_code(data)
    scan = FaceFingerprinter().fingerprint(data, name="a.jpg")
    assert len(scan.embedded) == 1  # skimage's astronaut: one face


@pytest.mark.parametrize("fingerprinter", _all()[1:], ids=lambda f: f.kind)
def test_undecodable_bytes_are_an_input_error_naming_the_file(
    fingerprinter: Fingerprinter[Any],
) -> None:
    with pytest.raises(InputError, match=r"upload-7\.gif"):
        fingerprinter.fingerprint(NOT_AN_IMAGE, name="upload-7.gif")


def test_exact_never_decodes_so_never_fails() -> None:
    assert (
        ExactFingerprinter().fingerprint(NOT_AN_IMAGE).hex
        == hashlib.sha256(NOT_AN_IMAGE).hexdigest()
    )


def test_file_digest_is_the_exact_fingerprinters_hex() -> None:
    assert file_digest(NOT_AN_IMAGE) == hashlib.sha256(NOT_AN_IMAGE).hexdigest()
    assert (
        file_digest(NOT_AN_IMAGE, "md5") == ExactFingerprinter("md5").fingerprint(NOT_AN_IMAGE).hex
    )
