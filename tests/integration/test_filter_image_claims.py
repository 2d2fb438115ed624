"""Image claims in ``traindex filter`` on a fingerprinted release, through the real CLI.

The dataset (the shared Flickr test photos' credits file) holds an exact copy of photo A,
an edited copy of photo B (smaller, grey, re-compressed), a crop of photo C (its middle
half, which PDQ does not match but keypoints do) and the other photos as they are. A
photographer claims the *originals* of A, B and C and an unrelated picture; an operator
approves the claims; a builder's default ``filter --images-release`` must then remove
exactly A's, B's and C's rows, and log which claim matched by which method and distance.
Before the approval the claims are unverified: the rows are kept and counted as such.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image
from skimage import data as skdata
from typer.testing import CliRunner

from traindex.cli.main import app
from traindex.config import Settings
from traindex.fingerprint.keypoints import KeypointOptions
from traindex.fingerprint.pdq import PdqFingerprinter
from traindex.jobs.fingerprint import fingerprint

pytestmark = pytest.mark.shared
PHOTOS = "conceptual-captions/competition/skeleton/conceptual-captions/test_images"
EXACT, EDITED, CROPPED = "0006400c1c224e19", "0053e4fc02b27650", "006adbf1ca23aa4d"
UNCLAIMED = "000adef7197e3118"
runner = CliRunner()


def _edited(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        small = image.resize((300, round(300 * image.height / image.width))).convert("L")
    buffer = io.BytesIO()
    small.save(buffer, "JPEG", quality=30)
    return buffer.getvalue()


def _cropped(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        w, h = image.size
        middle = image.convert("RGB").crop((w // 4, h // 4, w - w // 4, h - h // 4))
    buffer = io.BytesIO()
    middle.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def _cli(home: Path, *args: str) -> str:
    done = runner.invoke(app, ["--home", str(home), *args])
    assert done.exit_code == 0, done.output
    return done.stdout


@pytest.fixture(scope="module")
def release(
    tmp_path_factory: pytest.TempPathFactory, credits_release: Callable[..., tuple[Settings, Path]]
) -> tuple[Settings, Path]:
    edits = {EDITED: _edited, CROPPED: _cropped}
    settings, folder = credits_release(tmp_path_factory.mktemp("image-claims"), edits)
    fingerprint(settings, "credits", images=folder, workers=1, keypoints=KeypointOptions())
    return settings, folder


def _claims(settings: Settings, shared_data: Path, tmp_path: Path) -> list[str]:
    unrelated = tmp_path / "astronaut.png"
    Image.fromarray(skdata.astronaut()).save(unrelated, "PNG")
    ids = []
    for stem in (EXACT, EDITED, CROPPED):
        path = shared_data / PHOTOS / f"{stem}.jpg"
        out = _cli(settings.home, "registry", "add-claim", "--owner", "Photographer",
                   "--image", str(path), "--json")  # fmt: skip
        ids.append(json.loads(out)["id"])
    assert json.loads(out)["selector"]["keypoints"] > 100  # shown as a count in JSON
    out = _cli(settings.home, "registry", "add-claim", "--owner", "Photographer", "--image",
               str(unrelated), "--json")  # fmt: skip
    ids.append(json.loads(out)["id"])
    return ids


def _fingerprints(settings: Settings) -> pa.Table:
    tables = (settings.datasets_dir / "credits/main/fingerprints").glob("*.parquet")
    return pa.concat_tables(pq.read_table(t) for t in tables)


def _brute_force(settings: Settings, claimed: list[Path]) -> dict[str, int]:
    """Every fingerprinted row (whole or border-trimmed hash, as stored) within PDQ 31 of
    a claimed original, by its image key: key -> smallest distance."""
    pdq = PdqFingerprinter()
    originals = [bytes.fromhex(pdq.fingerprint(p.read_bytes()).hex) for p in claimed]
    found: dict[str, int] = {}
    for row in _fingerprints(settings).to_pylist():
        for stored in (row["pdq"], row["pdq_trim"]):
            if stored is None or (row["pdq_quality"] or 0) < 50:
                continue
            for original in originals:
                xor = np.frombuffer(stored, np.uint8) ^ np.frombuffer(original, np.uint8)
                distance = int(np.unpackbits(xor).sum())
                if distance <= 31:
                    found[row["key"]] = min(distance, found.get(row["key"], 99))
    return found


def test_default_filter_honours_approved_image_claims(
    release: tuple[Settings, Path], shared_data: Path, tmp_path: Path
) -> None:
    settings, folder = release
    source = shared_data / PHOTOS / "credits.csv"
    ids = _claims(settings, shared_data, tmp_path)
    base = ["filter", str(source), "--images-release", "credits", "--json"]

    before = json.loads(_cli(settings.home, *base, "--out", str(tmp_path / "before.csv")))
    [summary] = before["files"]
    assert summary["removed"] == {}
    assert summary["unverified_kept"] == 3  # listed for the builder, not removed
    hashed = sum(r["sha256"] is not None for r in _fingerprints(settings).to_pylist())
    assert (
        f"compared with {hashed} fingerprinted rows of 'credits' (3 URLs matched)"
        in (before["notes"][0])
    )

    for claim_id in ids:
        _cli(settings.home, "registry", "review", "approve", claim_id)
    out, log = tmp_path / "after.csv", tmp_path / "removed.parquet"
    after = json.loads(_cli(settings.home, *base, "--out", str(out), "--log", str(log)))

    in_order = [row["ImageID"] for row in csv.DictReader(source.open())]
    every = set(in_order)
    kept = {row["ImageID"] for row in csv.DictReader(out.open())}
    claimed = [shared_data / PHOTOS / f"{stem}.jpg" for stem in (EXACT, EDITED, CROPPED)]
    expected = _brute_force(settings, claimed)
    assert set(expected) == {EXACT, EDITED}  # the crop is too far for PDQ
    assert every - kept == {*expected, CROPPED}
    assert after["files"][0]["removed"] == {"claim:do_not_train": 3}
    removed = pq.read_table(log).to_pylist()
    matches = {in_order[r["row"]]: r for r in removed}
    assert f"claim {ids[0]}: same file (SHA-256)" in matches[EXACT]["match"]
    pdq = f"claim {ids[1]}: same image (PDQ distance {expected[EDITED]} <= 31)"
    assert matches[EDITED]["match"].startswith(pdq)  # keypoints may agree as well
    crop = re.fullmatch(rf"claim {ids[2]}: keypoints \((\d+) points agree >= 10\)",
                        matches[CROPPED]["match"])  # fmt: skip
    assert crop is not None
    assert all(r["verified"] for r in removed)

    # `registry check` takes the dataset's edited copy itself: the same image, by PDQ
    out = _cli(settings.home, "registry", "check", "--image", str(folder / f"{EDITED}.jpg"),
               "--image", str(folder / f"{UNCLAIMED}.jpg"), "--json")  # fmt: skip
    decisions = json.loads(out)["decisions"]
    assert [(d["decision"], d["claim_ids"]) for d in decisions] == [
        ("do_not_train", [ids[1]]),
        ("unknown", []),
    ]
