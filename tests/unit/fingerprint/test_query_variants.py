"""Query-side variants recover copies that plain PDQ misses (crops, rotations, padding)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from PIL import Image, ImageOps

from traindex.fingerprint.base import PDQ_MATCH_RADIUS, Fingerprint
from traindex.fingerprint.pdq import PdqFingerprinter, hamming
from traindex.fingerprint.variants import (
    VariantPlan,
    aspect_variants,
    crop_variants,
    inscribed_size,
    query_variants,
    rotation_grid,
    rotation_variants,
    trim_uniform_border,
)
from traindex.search.thresholds import Thresholds

HASHER = PdqFingerprinter()


def _best(copy: Fingerprint, variants: list[Fingerprint]) -> tuple[int, str]:
    return min((hamming(copy, v), v.variant) for v in variants)


@pytest.fixture(scope="module")
def variants_by_photo(photos: dict[str, Image.Image]) -> dict[str, list[Fingerprint]]:
    return {name: query_variants(photo, HASHER) for name, photo in photos.items()}


def test_variants_are_named_and_unique(variants_by_photo: dict[str, list[Fingerprint]]) -> None:
    for variants in variants_by_photo.values():
        names = [v.variant for v in variants]
        assert names[0] == "original"
        assert len(names) == len(set(names))
        assert {"rot90", "flip_h", "crop:0.7@tl", "rotate:+4", "rotate:-8/crop"} <= set(names)
        assert {f"rotate:{d:+d}/crop" for d in range(-8, 9) if d} <= set(names)
        assert 50 <= len(names) <= 62


@pytest.mark.parametrize(
    ("label", "box"),
    [
        ("crop:0.7@tl", (0.0, 0.0, 0.7, 0.7)),
        ("crop:0.5@br", (0.5, 0.5, 1.0, 1.0)),
        ("crop:0.8@c", (0.1, 0.1, 0.9, 0.9)),
    ],
)
def test_crop_grid_recovers_aligned_crops(
    photos: dict[str, Image.Image],
    variants_by_photo: dict[str, list[Fingerprint]],
    label: str,
    box: tuple[float, float, float, float],
) -> None:
    for name, photo in photos.items():
        w, h = photo.size
        copy = HASHER.hash_image(
            photo.crop((round(box[0] * w), round(box[1] * h), round(box[2] * w), round(box[3] * h)))
        )
        original = variants_by_photo[name][0]
        assert hamming(copy, original) > PDQ_MATCH_RADIUS, "plain PDQ should miss a crop"
        distance, variant = _best(copy, variants_by_photo[name])
        assert distance <= PDQ_MATCH_RADIUS, (name, label, distance, variant)


def test_square_centre_crop_like_img2dataset(
    photos: dict[str, Image.Image], variants_by_photo: dict[str, list[Fingerprint]]
) -> None:
    china = photos["china"]
    side = min(china.size)
    left = (china.width - side) // 2
    copy = HASHER.hash_image(china.crop((left, 0, left + side, side)).resize((256, 256)))
    distance, variant = _best(copy, variants_by_photo["china"])
    assert variant == "aspect:1:1"
    assert distance <= PDQ_MATCH_RADIUS


@pytest.mark.parametrize("angle", [90, 270])
def test_quarter_turns_are_found(
    photos: dict[str, Image.Image], variants_by_photo: dict[str, list[Fingerprint]], angle: int
) -> None:
    for name, photo in photos.items():
        copy = HASHER.hash_image(photo.rotate(angle, expand=True))
        assert _best(copy, variants_by_photo[name])[0] <= PDQ_MATCH_RADIUS, name


def test_small_rotations_are_found(
    photos: dict[str, Image.Image], variants_by_photo: dict[str, list[Fingerprint]]
) -> None:
    for name, photo in photos.items():
        copy = HASHER.hash_image(photo.rotate(5, resample=Image.Resampling.BILINEAR))
        assert hamming(copy, variants_by_photo[name][0]) > 20
        assert _best(copy, variants_by_photo[name])[0] <= PDQ_MATCH_RADIUS, name


@pytest.mark.parametrize("angle", [5.0, -3.0, 7.0])
def test_rotated_and_cropped_copies_are_found_by_the_grid_at_its_radius(
    photos: dict[str, Image.Image], variants_by_photo: dict[str, list[Fingerprint]], angle: float
) -> None:
    """A copy rotated and cut to its interior (AugLy's ``rotate``, an editor's straighten)
    is within ``rotation_grid_radius`` of the cropped rotation of the same angle."""
    radius = Thresholds().rotation_grid_radius
    for name, photo in photos.items():
        inner_w, inner_h = inscribed_size(photo.width, photo.height, angle)
        left, top = (photo.width - inner_w) // 2, (photo.height - inner_h) // 2
        rotated = photo.rotate(angle, resample=Image.Resampling.BICUBIC)
        copy = HASHER.hash_image(rotated.crop((left, top, left + inner_w, top + inner_h)))
        assert hamming(copy, variants_by_photo[name][0]) > PDQ_MATCH_RADIUS, name
        grid = [v for v in variants_by_photo[name] if v.variant.endswith("/crop")]
        distance, variant = _best(copy, grid)
        assert distance <= radius, (name, distance, variant)
        assert variant == f"rotate:{angle:+g}/crop", (name, distance, variant)


def test_trimming_undoes_padding_on_the_dataset_side(photos: dict[str, Image.Image]) -> None:
    for name, photo in photos.items():
        padded = ImageOps.expand(photo, border=(40, 10, 25, 60), fill=(0, 0, 0))
        trimmed = trim_uniform_border(padded)
        assert trimmed is not None
        assert abs(trimmed.width - photo.width) <= 3
        assert abs(trimmed.height - photo.height) <= 3
        original = HASHER.hash_image(photo)
        assert hamming(HASHER.hash_image(padded), original) > PDQ_MATCH_RADIUS, name
        assert hamming(HASHER.hash_image(trimmed), original) <= 12, name


def test_trim_is_none_without_a_border(photos: dict[str, Image.Image]) -> None:
    assert trim_uniform_border(photos["astronaut"]) is None
    assert trim_uniform_border(Image.new("RGB", (50, 50), "white")) is None


def test_query_trims_a_framed_query(photos: dict[str, Image.Image]) -> None:
    framed = ImageOps.expand(photos["coffee"], border=30, fill=(255, 255, 255))
    names = [v.variant for v in query_variants(framed, HASHER)]
    assert "trim" in names


def test_no_variant_matches_another_photo(
    variants_by_photo: dict[str, list[Fingerprint]], photos: dict[str, Image.Image]
) -> None:
    plain = {name: HASHER.hash_image(photo) for name, photo in photos.items()}
    for a, b in itertools.permutations(photos, 2):
        assert _best(plain[b], variants_by_photo[a])[0] > PDQ_MATCH_RADIUS, (a, b)


def test_plan_switches_families_off(astronaut: Image.Image) -> None:
    plan = VariantPlan(dihedral=False, aspects=(), crop_scales=(), rotations=(), trim=False)
    assert [v.variant for v in query_variants(astronaut, HASHER, plan)] == ["original"]


def test_geometry_helpers() -> None:
    assert inscribed_size(400, 300, 0.0) == (400, 300)
    w, h = inscribed_size(400, 300, 10.0)
    assert w < 400
    assert h < 300
    assert w * h > 0.6 * 400 * 300
    image = Image.new("RGB", (200, 100))
    crops = dict(crop_variants(image, (0.5,), ("tl", "br", "c")))
    assert crops["crop:0.5@tl"].size == (100, 50)
    assert [name for name, _ in aspect_variants(image, ((2, 1), (1, 1)))] == ["aspect:1:1"]
    rotated = dict(rotation_variants(image, (4.0,), cropped=(-1.0, 4.0)))
    assert set(rotated) == {"rotate:+4", "rotate:-1/crop", "rotate:+4/crop"}
    assert np.asarray(rotated["rotate:+4"]).shape == (100, 200, 3)
    assert rotated["rotate:+4/crop"].size == inscribed_size(200, 100, 4.0)
    assert rotation_grid((-8.0, -4.0, 4.0, 8.0), 1.0) == tuple(float(d) for d in range(-8, 9) if d)
    assert rotation_grid((-3.0, 2.0), 1.5) == (-3.0, -1.5, 1.5, 3.0)
    assert rotation_grid((), 1.0) == ()
    with pytest.raises(ValueError, match="step"):
        rotation_grid((4.0,), 0.0)
    with pytest.raises(ValueError, match="scale"):
        list(crop_variants(image, (1.5,), ("c",)))
