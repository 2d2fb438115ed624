"""A training photo pasted at any place and scale: found by keypoints, with its region.

Real photos (``conftest.keypoint_set``: the release fingerprinted with ``--keypoints``)
pasted at 30-90 % of the side, anywhere, turned up to 5 degrees, JPEG-compressed, partly
covered; the answer must be ``near_copy`` with the right training row and the region where
the photo sits (compared with where it was pasted), and novel photos must stay ``novel``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import Phase, given, note, settings
from hypothesis import strategies as st
from PIL import Image

from traindex.catalog.store import Catalog
from traindex.core.match_evidence import NearCopyEvidence
from traindex.core.matches import Match
from traindex.nearcopy.check import NearCopyChecker, NearCopyReport, OutputResult
from traindex.nearcopy.evidence import VerdictRules
from traindex.nearcopy.located import OutputFrame, Windows, locate, window_points
from traindex.nearcopy.report import render_report
from traindex.search.keypoints import KeypointMatch

from .conftest import TrainingSet, edits

Box = tuple[int, int, int, int]
_NO_SHRINK = (Phase.explicit, Phase.generate)
"""Each example checks real images (seconds): report a failure as drawn, do not shrink."""
FOUND_FROM = 0.45
"""From this share of the side on, every training photo but the star field must be found.
Below it some copies of a few photos are missed (a rocket on a plain sky, a cat's fur:
few of their 128 stored points survive shrinking to a third); ``bench/nearcopy_quality.py``
measures how often, over every photo and scale from 30 %."""
STAR_FIELD = 4
"""skimage's Hubble deep field: its corners are faint points of light that shrinking and
JPEG erase; even half-size copies are missed at times (the benchmark's per-photo row)."""


def _iou(a: Box | list[int], b: Box | list[int]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0, min(ay + ah, by + bh) - max(ay, by))
    return w * h / (aw * ah + bw * bh - w * h)


def _similarity(scale: float, angle: float, shift: tuple[float, float]) -> tuple[float, ...]:
    """The 2 x 3 matrix of dataset = scale * R(angle) * output + shift, row by row."""
    c, s = scale * math.cos(math.radians(angle)), scale * math.sin(math.radians(angle))
    return (c, -s, shift[0], s, c, shift[1])


def test_locate_maps_the_training_corners_into_output_pixels() -> None:
    # a 400 x 300 training image shown at half the output's 800 px side, at (200, 150)
    match = KeypointMatch(20, 40, 2.0, 0.0, _similarity(2.0, 0.0, (-0.5, -0.375)))
    frame = OutputFrame((0, 0, 800, 600), (800, 600), (800, 600))
    region = locate(match, frame, (400, 300))
    assert region is not None
    assert region.box == (200, 150, 400, 300)
    assert region.to_json()["outline"] == [[200, 150], [600, 150], [600, 450], [200, 450]]


def test_locate_uses_the_trimmed_frame_and_the_file_size() -> None:
    # points measured in a 1024-px decode whose 112-px border bands were trimmed; file 512 px
    match = KeypointMatch(20, 40, 1.0, 0.0, _similarity(1.0, 0.0, (0.0, 0.0)))
    frame = OutputFrame((112, 0, 912, 800), (1024, 800), (512, 400))
    region = locate(match, frame, (100, 100))
    assert region is not None
    assert region.box == (56, 0, 400, 400)


def test_locate_needs_the_training_shape() -> None:
    match = KeypointMatch(20, 40, 2.0, 0.0, _similarity(2.0, 0.0, (0.0, 0.0)))
    frame = OutputFrame((0, 0, 10, 10), (10, 10), (10, 10))
    assert locate(match, frame, (None, None)) is None
    assert locate(match, frame, (0, 5)) is None
    assert locate(KeypointMatch(20, 40, 2.0, 0.0), frame, (5, 5)) is None


@given(
    st.floats(0.2, 5.0),
    st.floats(-10, 10),
    st.tuples(st.floats(-0.5, 0.5), st.floats(-0.5, 0.5)),
    st.integers(50, 2000),
    st.integers(50, 2000),
)
def test_locate_inverts_the_transform(
    scale: float, angle: float, shift: tuple[float, float], width: int, height: int
) -> None:
    """Every outline corner, mapped forward again, is the training image's corner."""
    model = np.array(_similarity(scale, angle, shift)).reshape(2, 3)
    side = 1000
    frame = OutputFrame((0, 0, side, side), (side, side), (side, side))
    region = locate(
        KeypointMatch(20, 40, scale, angle, tuple(model.ravel())), frame, (width, height)
    )
    longer = max(width, height)
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]]) / longer
    if region is None:  # entirely outside the output: nothing to draw
        return
    outline = np.array(region.outline) / side
    back = outline @ model[:, :2].T + model[:, 2]
    assert np.allclose(back, corners, atol=1e-6)


@given(st.integers(0, 500), st.integers(0, 300), st.sampled_from([(1000, 800), (700, 1100)]))
@settings(max_examples=15, deadline=None)
def test_window_points_are_in_the_pictures_units(x: int, y: int, size: tuple[int, int]) -> None:
    """Points found in the windows sit on the picture's corners, in units of its longer
    side (the units of the whole-picture points they are searched with)."""
    picture = Image.new("L", size, 0)
    picture.paste(255, (x, y, x + 200, y + 150))
    points = window_points(picture, Windows(features=64, side=256)).points * max(size)
    corners = np.array([[x, y], [x + 200, y], [x + 200, y + 150], [x, y + 150]])
    nearest = np.linalg.norm(points[:, None, :] - corners[None], axis=2).min(axis=1)
    assert len(points) > 0
    # ORB's coarse pyramid levels place a corner a few of their pixels off; a window mapped
    # with the wrong offset or scale would be off by a quarter of the picture or more
    assert np.median(nearest) < 0.01 * max(size)
    assert nearest.max() < 0.05 * max(size)


def _covered(image: Image.Image, box: Box, rng: np.random.Generator) -> Image.Image:
    """A fifth of the pasted picture covered by a grey sticker (a partly covered copy)."""
    x, y, w, h = box
    sw, sh = round(w * 0.45), round(h * 0.45)
    left = x + int(rng.integers(0, w - sw + 1))
    top = y + int(rng.integers(0, h - sh + 1))
    out = image.copy()
    out.paste((128, 128, 128), (left, top, left + sw, top + sh))
    return out


def _pasted(
    keypoint_set: TrainingSet, index: int, scale: float, place: tuple[float, float], angle: float
) -> tuple[Image.Image, Box]:
    canvas = keypoint_set.novel[index % len(keypoint_set.novel)][1].resize((768, 768))
    photo = keypoint_set.training[index][1]
    return edits.pasted_at(photo, canvas, scale=scale, place=place, angle=angle)


def _check_one(keypoint_set: TrainingSet, image: Image.Image, quality: int) -> OutputResult:
    checker = NearCopyChecker.from_settings(keypoint_set.settings)
    return checker.check([("out.jpg", edits.jpeg(image, quality))], dataset="train").results[0]


def _assert_found(result: OutputResult, keypoint_set: TrainingSet, index: int, box: Box) -> None:
    assert result.verdict == "near_copy"
    best = result.matches[0]
    assert best.caption == keypoint_set.training[index][0]
    assert best.method == "same_image"
    evidence = best.evidence_as(NearCopyEvidence)
    assert evidence.keypoint_inliers is not None
    assert evidence.keypoint_inliers >= 10
    # 0.7, not ~1: a training photo with a flat band (the cameraman's sky) has its points
    # measured in the band-trimmed frame, which shifts the drawn outline (measured 0.79+)
    assert evidence.region is not None
    assert _iou(evidence.region["box"], box) >= 0.7


pytestmark = pytest.mark.shared


@pytest.mark.parametrize("scale", [0.3, 0.5, 0.7, 0.9])
def test_pasted_copy_is_near_copy_with_its_region(keypoint_set: TrainingSet, scale: float) -> None:
    rng = np.random.default_rng(int(scale * 10))
    image, box = _pasted(keypoint_set, 0, scale, (0.8, 0.15), 4.0)
    result = _check_one(keypoint_set, _covered(image, box, rng), 70)
    _assert_found(result, keypoint_set, 0, box)


_Case = tuple[int, float, tuple[float, float], float, int]


def _cases(index: st.SearchStrategy[int], low: float, high: float) -> st.SearchStrategy[_Case]:
    """(training photo, scale, place, angle, JPEG quality) of one pasted copy."""
    place = st.tuples(st.floats(0, 1), st.floats(0, 1))
    return st.tuples(index, st.floats(low, high), place, st.floats(-5, 5), st.integers(50, 95))


def _run_case(keypoint_set: TrainingSet, case: _Case) -> tuple[OutputResult, Box]:
    note(f"photo {keypoint_set.training[case[0]][0]}, (index, scale, place, angle, q) {case}")
    index, scale, place, angle, quality = case
    image, box = _pasted(keypoint_set, index, scale, place, angle)
    return _check_one(keypoint_set, image, quality), box


@settings(max_examples=14, derandomize=True, phases=_NO_SHRINK)
@given(case=_cases(st.integers(0, 13).filter(lambda i: i != STAR_FIELD), FOUND_FROM, 0.9))
def test_pasted_anywhere_property(keypoint_set: TrainingSet, case: _Case) -> None:
    """Any training photo (but the star field), 45-90 % of the side, any place, turned up
    to 5 degrees, JPEG q50-95: ``near_copy``, the right row, and the region where it was
    pasted."""
    result, box = _run_case(keypoint_set, case)
    _assert_found(result, keypoint_set, case[0], box)


@settings(max_examples=8, derandomize=True, phases=_NO_SHRINK)
@given(case=_cases(st.integers(0, 13), 0.3, FOUND_FROM))
def test_small_pasted_copies_are_never_misplaced(keypoint_set: TrainingSet, case: _Case) -> None:
    """Below 45 % of the side a copy may be missed (the benchmark measures how often); when
    it is found, it is the right row at the right place, and it is never a ``copy``."""
    result, box = _run_case(keypoint_set, case)
    assert result.verdict in ("near_copy", "novel")
    if (
        result.verdict == "near_copy"
        and result.matches[0].evidence_as(NearCopyEvidence).region is not None
    ):
        _assert_found(result, keypoint_set, case[0], box)


def test_novel_photos_and_novel_pastes_stay_novel(keypoint_set: TrainingSet) -> None:
    novel = [image for _, image in keypoint_set.novel]
    files = [(f"novel-{i}.jpg", edits.jpeg(image, 80)) for i, image in enumerate(novel)]
    for i, image in enumerate(novel):
        canvas = novel[(i + 1) % len(novel)].resize((768, 768))
        pasted, _ = edits.pasted_at(image, canvas, scale=0.5, place=(0.3, 0.6), angle=3.0)
        files.append((f"pasted-novel-{i}.jpg", edits.jpeg(pasted, 80)))
    report = NearCopyChecker.from_settings(keypoint_set.settings).check(files)
    assert [r.verdict for r in report.results] == ["novel"] * len(files)
    assert report.searched == {"train/r1": ["pdq", "regions", "keypoints"]}


def test_coverage_says_which_signals_covered_which_rows(
    keypoint_set: TrainingSet, training_set: TrainingSet
) -> None:
    photo = edits.jpeg(keypoint_set.novel[0][1])
    with_points = NearCopyChecker.from_settings(keypoint_set.settings).check([("a.jpg", photo)])
    assert with_points.to_json()["coverage"]["train/r1"] == {
        "rows": 14,
        "signals": [{"signal": s, "rows_covered": 14} for s in ("pdq", "regions", "keypoints")],
        "not_used": [],
    }
    without = NearCopyChecker.from_settings(training_set.settings).check([("a.jpg", photo)])
    coverage = without.to_json()["coverage"]["train/r1"]
    assert [s["signal"] for s in coverage["signals"]] == ["pdq", "regions"]
    (missing,) = coverage["not_used"]
    assert missing["signal"] == "keypoints"
    assert "traindex fingerprint --keypoints" in missing["why"]


def test_report_draws_the_outline_where_the_copy_was_found(keypoint_set: TrainingSet) -> None:
    image, _ = _pasted(keypoint_set, 0, 0.5, (0.1, 0.9), -3.0)
    files = {"pasted.jpg": edits.jpeg(image, 80)}
    report = NearCopyChecker.from_settings(keypoint_set.settings).check(list(files.items()))
    html = render_report(report, Catalog(keypoint_set.settings), files=files)
    assert '<polygon class="outline"' in html
    region = report.results[0].matches[0].evidence_as(NearCopyEvidence).region
    assert region is not None
    assert f"found at x {region['box'][0]}, y {region['box'][1]}" in html
    assert html.count("data:image/jpeg;base64,") == 2  # the upload and the training image


def test_report_renders_rows_without_pwatermark(training_set: TrainingSet, tmp_path: Path) -> None:
    """Issue 13 item 6: a release without LAION-5B's ``pwatermark`` column crashed it."""
    evidence = NearCopyEvidence("near_copy", False, 0, None, None, [], output="a.jpg")
    match = Match("train", "r1", "part-00000.parquet", 0, "https://x.example/a.jpg", None,
                  None, None, None, "same_image", 0.9, evidence=evidence)  # fmt: skip
    report = NearCopyReport([OutputResult("a.jpg", "near_copy", [match])], VerdictRules())
    html = render_report(report, Catalog(training_set.settings), files={})
    assert "&middot; pwatermark" not in html
    assert "https://x.example/a.jpg" in html
