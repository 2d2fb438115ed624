"""Evidence kinds, verdict rules and region ids: the pure parts of the near-copy check."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from traindex.config import Settings
from traindex.nearcopy.evidence import (
    Evidence,
    VerdictRules,
    evidence_kind,
    searches_regions,
    strongest,
)
from traindex.nearcopy.tiles import (
    DATASET_CROPS,
    GRID,
    pack_region_id,
    region_name,
    unpack_region_id,
)


@pytest.mark.parametrize(
    ("output", "training", "kind"),
    [
        ("original", "image", "whole"),
        ("rot90", "image", "whole"),
        ("crop:0.8@c", "image", "whole"),
        ("original", "crop:0.8@c", "whole"),
        ("tile:1,2", "tile:1,2", "tile"),
        ("trim/tile:0,0", "tile:0,0", "tile"),
        ("tile:1,2", "tile:2,1", None),  # another position proves nothing
        ("tile:0,0", "image", "region"),  # the training image pasted into a cell
        ("original", "tile:1,1", "region"),  # one training cell blown up
        ("tile:0,0", "crop:0.9@c", None),
    ],
)
def test_evidence_kind(output: str, training: str, kind: str | None) -> None:
    assert evidence_kind(output, training) == kind


def _tiles(*cells: tuple[str, int]) -> list[Evidence]:
    return [Evidence("tile", cell, cell, d) for cell, d in cells]


def test_verdict_boundaries() -> None:
    rules = VerdictRules(copy_distance=16, near_distance=31, tile_distance=31, min_tiles=2)
    assert rules.verdict([Evidence("whole", "original", "image", 16)]) == "copy"
    assert rules.verdict([Evidence("whole", "original", "image", 17)]) == "near_copy"
    assert rules.verdict([Evidence("whole", "crop:0.8@c", "crop:0.8@c", 3)]) == "copy"
    assert rules.verdict([Evidence("whole", "crop:0.8@c", "image", 3)]) == "near_copy"
    assert rules.verdict([Evidence("whole", "original", "image", 32)]) == "novel"
    assert rules.verdict([Evidence("region", "tile:0,0", "image", 31)]) == "near_copy"
    assert rules.verdict(_tiles(("tile:0,0", 5), ("tile:0,1", 31))) == "near_copy"
    assert rules.verdict(_tiles(("tile:0,0", 5), ("trim/tile:0,0", 7))) == "similar"  # one cell
    assert rules.verdict(_tiles(("tile:0,0", 5), ("tile:0,1", 32))) == "similar"
    assert rules.verdict([Evidence("clip", "image", "embedding", 0.95)]) == "similar"
    assert rules.verdict([Evidence("clip", "image", "embedding", 0.999)]) == "similar"  # never more
    assert rules.verdict([Evidence("clip", "image", "embedding", 0.5)]) == "novel"
    assert rules.verdict([]) == "novel"


def test_score_orders_whole_then_tiles_then_clip() -> None:
    rules = VerdictRules()
    assert rules.score([Evidence("whole", "original", "image", 64)]) == 0.75
    assert rules.score(_tiles(("tile:0,0", 0), ("tile:1,1", 0), ("tile:2,2", 0))) == 3 / GRID**2
    assert rules.score([Evidence("clip", "image", "embedding", 0.93)]) == 0.93


def test_rules_come_from_settings(tmp_path: object) -> None:
    settings = Settings(home="/nonexistent", nearcopy_copy_distance=4, nearcopy_min_tiles=3)
    rules = VerdictRules.from_settings(settings)
    assert (rules.copy_distance, rules.min_tiles, rules.near_distance) == (4, 3, 31)
    assert VerdictRules(near_distance=20, tile_distance=40).search_radius == 40


def test_strongest() -> None:
    assert strongest(["similar", "near_copy", "novel"]) == "near_copy"
    assert strongest([]) == "novel"


@given(
    shard=st.integers(0, (1 << 19) - 1),
    row=st.integers(0, (1 << 40) - 1),
    region=st.integers(0, GRID * GRID + len(DATASET_CROPS) - 1),
)
def test_region_ids_round_trip(shard: int, row: int, region: int) -> None:
    loc = (shard << 40) | row
    packed = pack_region_id(loc, region)
    assert 0 <= packed < 1 << 63  # a non-negative int64
    assert unpack_region_id(packed) == (loc, region)
    assert region_name(region).startswith(("tile:", "crop:"))


@pytest.mark.parametrize(
    ("output", "searched"),
    [("original", True), ("flip_h", True), ("trim", True), ("tile:2,2", True),
     ("trim/tile:0,1", True), ("crop:0.8@c", True), ("crop:0.5@c", False),
     ("crop:0.8@tl", False), ("aspect:1:1", False), ("rotate:+4", False)],
)  # fmt: skip
def test_which_output_hashes_search_the_region_index(output: str, searched: bool) -> None:
    assert searches_regions(output) is searched
