"""ORB keypoint extraction on real photos: caps, coordinates, dark and flat pictures."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from traindex.fingerprint.keypoints import KeypointOptions, extract_keypoints, query_keypoints

from .conftest import load_photos

OPTIONS = KeypointOptions()


@pytest.fixture(scope="module")
def photos() -> dict[str, Image.Image]:
    return load_photos()


def test_points_are_capped_normalised_and_repeatable(photos: dict[str, Image.Image]) -> None:
    for photo in photos.values():
        found = extract_keypoints(photo, 128, OPTIONS)
        assert 100 <= len(found) <= 128
        assert found.descriptors.shape == (len(found), 32)
        longer = max(photo.size)
        assert found.points.min() >= 0
        assert found.points[:, 0].max() <= photo.width / longer
        assert found.points[:, 1].max() <= photo.height / longer
        again = extract_keypoints(photo, 128, OPTIONS)
        assert np.array_equal(again.descriptors, found.descriptors)


def _cells(photo: Image.Image, options: KeypointOptions) -> int:
    found = extract_keypoints(photo, 64, options)
    return len({(int(x * 8 * 0.999), int(y * 8 * 0.999)) for x, y in found.points})


def test_points_cover_more_of_the_picture_than_strength_alone(
    photos: dict[str, Image.Image],
) -> None:
    strongest = KeypointOptions(oversample=1)  # ORB's own top points, no spreading
    for photo in photos.values():
        assert _cells(photo, OPTIONS) > _cells(photo, strongest)


def test_a_small_photo_in_a_busy_page_keeps_points(photos: dict[str, Image.Image]) -> None:
    page = Image.new("RGB", (1200, 800), (240, 240, 240))
    draw = ImageDraw.Draw(page)
    for y in range(20, 780, 30):
        for x in range(20, 1180, 90):
            draw.text((x, y), "Like Share", fill=(20, 20, 20))
    page.paste(photos["coffee"].resize((300, 200)), (450, 300))
    found = extract_keypoints(page, 128, OPTIONS)
    scale = 1200
    inside = (
        (found.points[:, 0] * scale >= 450)
        & (found.points[:, 0] * scale <= 750)
        & (found.points[:, 1] * scale >= 300)
        & (found.points[:, 1] * scale <= 500)
    )
    assert inside.sum() >= 8  # by strength alone the text's corners would take them all


def test_a_night_photo_still_has_points(photos: dict[str, Image.Image]) -> None:
    dark = Image.fromarray((np.asarray(photos["chelsea"]) * 0.04).astype(np.uint8))
    assert len(extract_keypoints(dark, 128, OPTIONS)) >= 64


def test_a_flat_picture_has_none() -> None:
    assert len(extract_keypoints(Image.new("L", (400, 300), 128), 128, OPTIONS)) == 0


def test_options_are_validated() -> None:
    with pytest.raises(ValueError, match="working_side"):
        KeypointOptions(working_side=32)
    with pytest.raises(ValueError, match="positive"):
        KeypointOptions(dataset_features=0)


def test_a_query_is_described_at_each_of_its_sides(photos: dict[str, Image.Image]) -> None:
    photo = photos["coffee"]
    options = KeypointOptions(query_features=200, query_sides=(512, 1024))
    query = query_keypoints(photo, options)
    alone = [extract_keypoints(photo, 200, options, side) for side in (512, 1024)]
    assert len(query) == sum(len(a) for a in alone)
    assert np.array_equal(query.descriptors[: len(alone[0])], alone[0].descriptors)
    # positions are in units of each side, so both halves describe the same picture
    assert np.allclose(query.points.max(axis=0), alone[1].points.max(axis=0), atol=0.02)
    with pytest.raises(ValueError, match="query_sides"):
        KeypointOptions(query_sides=())
