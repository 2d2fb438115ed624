"""Cropped rotations are looked up at their own, tighter radius; every other variant at the
match radius (``Thresholds.variant_radius``, ``ImageSearch._same_image``)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import skimage.data
from PIL import Image

from traindex.catalog.store import Catalog
from traindex.config import Settings
from traindex.fingerprint.pdq import PdqFingerprinter, hamming
from traindex.fingerprint.variants import inscribed_size, query_variants
from traindex.index.binary import MultiIndexHashIndex
from traindex.search.images import ImageSearch
from traindex.search.thresholds import Thresholds

HASHER = PdqFingerprinter()
ANGLE = 5.0


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    return Image.fromarray(skimage.data.coffee()).convert("RGB")


def straightened(photo: Image.Image, angle: float) -> Image.Image:
    """Rotated and cut to the upright interior, as AugLy's ``rotate`` does."""
    inner_w, inner_h = inscribed_size(photo.width, photo.height, angle)
    left, top = (photo.width - inner_w) // 2, (photo.height - inner_h) // 2
    rotated = photo.rotate(angle, resample=Image.Resampling.BICUBIC)
    return rotated.crop((left, top, left + inner_w, top + inner_h))


def test_variant_radius() -> None:
    thresholds = Thresholds()
    assert thresholds.variant_radius("rotate:+5/crop") == thresholds.rotation_grid_radius == 21
    assert thresholds.variant_radius("rotate:+4") == thresholds.variant_radius("trim") == 31
    assert Thresholds(radius=8).variant_radius("rotate:-3/crop") == 8  # capped at the radius
    with pytest.raises(ValueError, match="rotation_grid_radius"):
        Thresholds(rotation_grid_radius=-1)


def _nearest(settings: Settings, thresholds: Thresholds, photo: Image.Image, stored: Any) -> Any:
    index = MultiIndexHashIndex()
    index.add([fp.digest for fp in stored], np.arange(len(stored), dtype=np.int64))
    search = ImageSearch(Catalog(settings), thresholds=thresholds)
    view: Any = SimpleNamespace(pdq=index)
    nearest, not_searched = search._same_image(view, [query_variants(photo, HASHER)])
    assert not_searched == set()  # an in-process index searches every shard
    return nearest


def test_a_straightened_copy_is_found_through_the_grid_only_within_its_radius(
    settings: Settings, photo: Image.Image
) -> None:
    copy = HASHER.hash_image(straightened(photo, ANGLE))
    assert hamming(copy, HASHER.hash_image(photo)) > 31  # plain PDQ misses it
    found = _nearest(settings, Thresholds(), photo, [copy])
    distance, variant = found[(0, 0)]
    assert variant == f"rotate:{ANGLE:+g}/crop"
    assert distance <= 21
    tight = _nearest(settings, Thresholds(rotation_grid_radius=distance - 1), photo, [copy])
    assert all(not variant.endswith("/crop") for _, variant in tight.values())
