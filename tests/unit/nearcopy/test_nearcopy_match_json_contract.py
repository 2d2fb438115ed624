"""The JSON of a real near-copy check stays byte for byte what it was (the ``Match``
contract, see the ``match_contract`` fixture): verdict, watermark flag, tiles, distance,
the evidence list, the keypoints' region and the output's name, in that order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.conftest import MatchContract

from traindex.nearcopy.check import NearCopyChecker

from .conftest import TrainingSet, edits

pytestmark = pytest.mark.shared

CONTRACT = Path(__file__).with_name("nearcopy_match_json_contract.json")
FAMILIES = ("rerender", "padded", "pasted_in_cell", "pasted_anywhere")


def test_nearcopy_json_is_unchanged(
    keypoint_set: TrainingSet, match_contract: MatchContract
) -> None:
    rng = np.random.default_rng(5)
    (name, photo), other = keypoint_set.training[0], keypoint_set.novel[0][1]
    files = [(f"{f}/{name}", edits.jpeg(edits.EDITS[f](photo, other, rng), 80)) for f in FAMILIES]
    files.append(("novel.jpg", edits.jpeg(other, 80)))
    document = NearCopyChecker.from_settings(keypoint_set.settings).check(files).to_json()
    matches = [m for r in document["results"] for m in r["matches"]]
    assert {"region", "keypoint_inliers", "distance", "output"} <= {k for m in matches for k in m}
    match_contract(CONTRACT, [document])
