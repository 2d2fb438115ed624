"""Threshold and confidence bands for image matches."""

from __future__ import annotations

import pytest

from traindex.fingerprint.base import PDQ_MATCH_RADIUS
from traindex.search.thresholds import Band, Thresholds


def test_default_bands() -> None:
    thresholds = Thresholds()
    assert thresholds.radius == PDQ_MATCH_RADIUS == 31
    assert [thresholds.confidence(d) for d in (0, 10, 11, 31, 32, 128)] == [
        "certain",
        "certain",
        "likely",
        "likely",
        None,
        None,
    ]


def test_explanations_are_plain_words() -> None:
    thresholds = Thresholds()
    assert thresholds.explain(4).startswith("Certain match (4 of 256 fingerprint bits differ)")
    assert "Likely match" in thresholds.explain(20)
    assert "not treated as your image" in thresholds.explain(60)


def test_configurable_bands_and_radius() -> None:
    strict = Thresholds(radius=20, bands=(Band("certain", 6, "x"), Band("likely", 20, "y")))
    assert strict.confidence(7) == "likely"
    assert strict.confidence(21) is None
    narrow = Thresholds(radius=8)
    assert narrow.confidence(9) is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"radius": -1},
        {"radius": 256},
        {"bands": ()},
        {"bands": (Band("a", 20, ""), Band("b", 10, ""))},
        {"radius": 40},
    ],
)
def test_invalid_configurations(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"radius|band"):
        Thresholds(**kwargs)  # type: ignore[arg-type]


def test_negative_distance() -> None:
    with pytest.raises(ValueError, match="negative"):
        Thresholds().band(-1)
