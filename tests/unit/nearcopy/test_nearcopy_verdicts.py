"""Simulated outputs of real training photos get the right verdict, row and evidence."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from traindex.catalog.store import Catalog
from traindex.core.match_evidence import NearCopyEvidence
from traindex.nearcopy.check import NearCopyChecker, NearCopyReport, OutputResult
from traindex.nearcopy.evidence import VerdictRules

from .conftest import TrainingSet, edits

pytestmark = pytest.mark.shared

FAMILIES = ("rerender", "colour_shift", "regen_noise", "regen_photo", "padded", "cut_borders",
            "outpainted", "pasted_in_cell")  # fmt: skip


def outputs(ts: TrainingSet, families: tuple[str, ...], seed: int = 5) -> list[tuple[str, bytes]]:
    rng = np.random.default_rng(seed)
    files = []
    for family in families:
        for i, (name, photo) in enumerate(ts.training):
            other = ts.novel[i % len(ts.novel)][1]
            files.append(
                (f"{family}/{name}", edits.jpeg(edits.EDITS[family](photo, other, rng), 80))
            )
    files += [(f"novel/{name}", edits.jpeg(photo, 80)) for name, photo in ts.novel]
    return files


@pytest.fixture(scope="module")
def report(training_set: TrainingSet) -> NearCopyReport:
    checker = NearCopyChecker.from_settings(training_set.settings)
    return checker.check(outputs(training_set, FAMILIES))


def _family(report: NearCopyReport, family: str) -> list[OutputResult]:
    return [r for r in report.results if r.image.startswith(family + "/")]


def _verdicts(results: list[OutputResult]) -> Counter[str]:
    return Counter(r.verdict for r in results)


def test_every_copied_output_names_its_own_training_row(report: NearCopyReport) -> None:
    for result in report.results:
        if result.image.startswith("novel/") or result.verdict == "novel":
            continue
        _, name = result.image.split("/")
        assert result.matches[0].caption == name, result.image
        assert result.matches[0].evidence_as(NearCopyEvidence).output == result.image


def test_rerendered_and_recoloured_outputs_are_copies(report: NearCopyReport) -> None:
    rerendered = _family(report, "rerender")
    odd = [
        (r.image, r.matches[0].evidence_as(NearCopyEvidence).evidence[:4])
        for r in rerendered
        if r.verdict != "copy"
    ]
    assert not odd, f"{odd} (searched: {report.searched})"
    assert _verdicts(_family(report, "colour_shift")) == Counter(copy=14)


@pytest.mark.parametrize("family", ["regen_noise", "regen_photo"])
def test_partly_regenerated_outputs_are_near_copies_through_tiles(
    report: NearCopyReport, family: str
) -> None:
    results = _family(report, family)
    assert _verdicts(results)["near_copy"] >= 12  # measured 12 and 14 of 14
    assert all(r.verdict in ("near_copy", "similar") for r in results)  # 1 tile left: similar
    tile_only = [
        r
        for r in results
        if r.verdict == "near_copy" and r.matches[0].evidence_as(NearCopyEvidence).distance is None
    ]
    assert tile_only  # some are beyond any whole-image hash: only the grid tiles see them
    for result in tile_only:
        assert result.matches[0].evidence_as(NearCopyEvidence).tiles_matched >= 2
        assert {e["kind"] for e in result.matches[0].evidence_as(NearCopyEvidence).evidence} == {
            "tile"
        }


def test_changed_borders(report: NearCopyReport) -> None:
    padded = _verdicts(_family(report, "padded"))
    assert padded["copy"] + padded["near_copy"] >= 13  # measured 13 of 14
    cut = _family(report, "cut_borders")
    assert _verdicts(cut) == Counter(near_copy=14)
    assert all(
        any(
            e["training_part"] == "crop:0.8@c"
            for e in r.matches[0].evidence_as(NearCopyEvidence).evidence
        )
        for r in cut
    )
    outpainted = _family(report, "outpainted")
    assert _verdicts(outpainted)["near_copy"] >= 13
    assert all(
        any(
            e["output_part"] == "crop:0.8@c"
            for e in r.matches[0].evidence_as(NearCopyEvidence).evidence
        )
        for r in outpainted
        if r.verdict == "near_copy"
    )


def test_photo_pasted_into_a_grid_cell_is_found_as_a_region(report: NearCopyReport) -> None:
    pasted = _family(report, "pasted_in_cell")
    assert _verdicts(pasted) == Counter(near_copy=14)
    for result in pasted:
        kinds = {e["kind"] for e in result.matches[0].evidence_as(NearCopyEvidence).evidence}
        assert kinds == {"region"}


def test_novel_photos_are_novel(report: NearCopyReport) -> None:
    novel = _family(report, "novel")
    assert len(novel) == 13
    assert all(r.verdict == "novel" and not r.matches for r in novel)


def test_watermark_probability_is_shown_and_flagged(
    report: NearCopyReport, training_set: TrainingSet
) -> None:
    for result in _family(report, "rerender"):
        best = result.matches[0]
        watermarked = best.caption in training_set.watermarked
        assert best.extra["pwatermark"] == (0.9 if watermarked else 0.1)
        assert best.evidence_as(NearCopyEvidence).watermark_flag is watermarked
        assert result.watermark_flag is watermarked
    strict = VerdictRules(watermark=0.95)
    assert not strict.flag_watermark("copy", 0.9)
    assert not VerdictRules().flag_watermark("similar", 0.99)


def test_without_the_region_index_partial_copies_are_missed(training_set: TrainingSet) -> None:
    """The tiles are what find partly regenerated outputs: switched off, most go unseen."""
    checker = NearCopyChecker(Catalog(training_set.settings))
    with_tiles = checker.check(outputs(training_set, ("regen_photo",)))
    checker._region_index = lambda view: None  # type: ignore[method-assign]
    without = checker.check(outputs(training_set, ("regen_photo",)))
    copied = lambda rep: sum(r.verdict in ("copy", "near_copy") for r in rep.results)  # noqa: E731
    assert copied(without) < copied(with_tiles) - 5
    assert without.searched == {"train/r1": ["pdq"]}
    assert with_tiles.searched == {"train/r1": ["pdq", "regions"]}


def test_json_contract(report: NearCopyReport) -> None:
    data = report.to_json()
    assert set(data) >= {"results", "thresholds", "counts", "searched"}
    first = data["results"][0]
    assert set(first) >= {"image", "verdict", "matches"}
    match = first["matches"][0]
    assert match["method"] == "same_image"
    assert {"dataset", "release", "shard", "row", "url", "verdict", "evidence"} <= set(match)
    assert {"method", "kind", "output_part", "training_part", "distance"} <= set(
        match["evidence"][0]
    )
    assert data["thresholds"]["near_distance"] == 31
    assert sum(data["counts"].values()) == len(data["results"])


def test_unreadable_output_is_an_error_row(training_set: TrainingSet) -> None:
    checker = NearCopyChecker.from_settings(training_set.settings)
    result = checker.check([("broken.png", b"<html>no image</html>")])
    [row] = result.to_json()["results"]
    assert row["verdict"] is None
    assert "broken.png" in row["error"]
    assert result.counts()["error"] == 1
