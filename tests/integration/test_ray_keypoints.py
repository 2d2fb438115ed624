"""The keypoint index fanned out over a real two-node Ray cluster, like PDQ: placement is
recorded, a search equals the in-process one (heavy crops, which only keypoints find), and
a holder that stops answering is named in the answer's coverage."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from PIL import Image

from traindex.catalog.store import Catalog
from traindex.fingerprint.keypoints import KeypointOptions
from traindex.jobs.ray import RayOptions
from traindex.search.fanout import fanout_views
from traindex.search.images import ImageSearch
from traindex.search.placement import placement_path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from raycluster import PHOTOS, TwoNodes, fingerprinted_cc3m, kill_holder, run_cli, two_nodes

pytestmark = [pytest.mark.shared, pytest.mark.slow]
__all__ = ["two_nodes"]  # the session fixture, imported so pytest finds it


def _crop(path: Path) -> bytes:
    """The middle 45% of the photo, enlarged: PDQ cannot match it, keypoints can."""
    image = Image.open(path).convert("RGB")
    w, h = image.size
    box = (round(w * 0.25), round(h * 0.3), round(w * 0.7), round(h * 0.75))
    buffer = io.BytesIO()
    image.crop(box).resize((480, round(480 * 0.45 * h / (0.45 * w)))).save(buffer, "JPEG")
    return buffer.getvalue()


def test_fanned_out_keypoints_equal_in_process_and_name_a_lost_holder(
    shared_data: Path, two_nodes: TwoNodes, tmp_path: Path
) -> None:
    settings, release = fingerprinted_cc3m(shared_data, tmp_path, keypoints=KeypointOptions())
    manifest = release.manifest()
    crops = [(p.name, _crop(p)) for p in sorted((shared_data / PHOTOS).glob("*.jpg"))]
    local = ImageSearch(Catalog(settings)).search(crops, limit=100).to_json()
    by_points = [m for m in local["matches"] if m["variant"] == "keypoints"]
    assert len(by_points) >= 3  # found by keypoints alone
    assert {m["shard"] for m in by_points} == {s.relpath for s in manifest.sources}

    run_cli(["place-index", "-d", "cc3m"], tmp_path, two_nodes.address)
    placed = json.loads(placement_path(release, "keypoints").read_text())["holders"]
    assert sorted(s for h in placed for s in h["shards"]) == ["shard-000001", "shard-000002"]
    assert len({h["node_id"] for h in placed}) == 2  # one keypoint shard on each node

    options = RayOptions(address=two_nodes.address)
    search = ImageSearch(Catalog(settings), fanout_views(Catalog(settings), options, timeout=60))
    assert search.search(crops, limit=100).to_json() == local

    gone = next(h for h in placed if h["shards"] == ["shard-000002"])
    kill_holder(gone["actor"])
    partial = search.search(crops, limit=100).to_json()
    assert partial["index_shards_not_searched"] == ["cc3m/main:keypoints/shard-000002"]
    assert partial["coverage"]["state"] == "partly searched"
    # keypoint index shard 2 holds the second catalog shard's points: its crops go unfound
    lost = manifest.sources[1].relpath
    assert [m for m in partial["matches"] if m["variant"] == "keypoints"] == [
        m for m in by_points if m["shard"] != lost
    ]
