"""Image claims in ``traindex filter`` on a fingerprinted release, through the real CLI.

The dataset (the shared Flickr test photos' credits file) holds an exact copy of photo A,
an edited copy of photo B (smaller, grey, re-compressed) and the other photos as they are.
A photographer claims the *originals* of A and B and an unrelated picture; an operator
approves the claims; a builder's default ``filter --images-release`` must then remove
exactly A's and B's rows, and log which claim matched by which method and distance.
Before the approval the claims are unverified: the rows are kept and counted as such.
"""

from __future__ import annotations

import csv
import io
import json
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
from traindex.fingerprint.pdq import PdqFingerprinter
from traindex.ingest.pipeline import ingest
from traindex.jobs.fingerprint import fingerprint

pytestmark = pytest.mark.shared
PHOTOS = "conceptual-captions/competition/skeleton/conceptual-captions/test_images"
EXACT, EDITED, UNCLAIMED = "0006400c1c224e19", "0053e4fc02b27650", "000adef7197e3118"
runner = CliRunner()


def _edited(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        small = image.resize((300, round(300 * image.height / image.width))).convert("L")
    buffer = io.BytesIO()
    small.save(buffer, "JPEG", quality=30)
    return buffer.getvalue()


def _cli(home: Path, *args: str) -> str:
    done = runner.invoke(app, ["--home", str(home), *args])
    assert done.exit_code == 0, done.output
    return done.stdout


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> tuple[Settings, Path]:
    root = tmp_path_factory.mktemp("image-claims")
    photos = shared_data / PHOTOS
    settings = Settings(home=root / "home")
    ingest(settings, photos / "credits.csv", dataset="credits", release="main")
    folder = root / "images"
    folder.mkdir()
    for path in sorted(photos.glob("*.jpg")):
        data = path.read_bytes()
        (folder / path.name).write_bytes(_edited(data) if path.stem == EDITED else data)
    fingerprint(settings, "credits", images=folder, workers=1)
    return settings, folder


def _claims(settings: Settings, shared_data: Path, tmp_path: Path) -> list[str]:
    unrelated = tmp_path / "astronaut.png"
    Image.fromarray(skdata.astronaut()).save(unrelated, "PNG")
    ids = []
    for path in (shared_data / PHOTOS / f"{EXACT}.jpg", shared_data / PHOTOS / f"{EDITED}.jpg"):
        out = _cli(settings.home, "registry", "add-claim", "--owner", "Photographer",
                   "--image", str(path), "--json")  # fmt: skip
        ids.append(json.loads(out)["id"])
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
    assert summary["unverified_kept"] == 2  # listed for the builder, not removed
    hashed = sum(r["sha256"] is not None for r in _fingerprints(settings).to_pylist())
    assert (
        f"compared with {hashed} fingerprinted rows of 'credits' (2 URLs matched)"
        in (before["notes"][0])
    )

    for claim_id in ids:
        _cli(settings.home, "registry", "review", "approve", claim_id)
    out, log = tmp_path / "after.csv", tmp_path / "removed.parquet"
    after = json.loads(_cli(settings.home, *base, "--out", str(out), "--log", str(log)))

    in_order = [row["ImageID"] for row in csv.DictReader(source.open())]
    every = set(in_order)
    kept = {row["ImageID"] for row in csv.DictReader(out.open())}
    claimed = [shared_data / PHOTOS / f"{stem}.jpg" for stem in (EXACT, EDITED)]
    expected = _brute_force(settings, claimed)
    assert set(expected) == {EXACT, EDITED}
    assert every - kept == set(expected)
    assert after["files"][0]["removed"] == {"claim:do_not_train": 2}
    removed = pq.read_table(log).to_pylist()
    matches = {in_order[r["row"]]: r for r in removed}
    assert f"claim {ids[0]}: same file (SHA-256)" in matches[EXACT]["match"]
    assert matches[EDITED]["match"] == (
        f"claim {ids[1]}: same image (PDQ distance {expected[EDITED]} <= 31)"
    )
    assert all(r["verified"] for r in removed)

    # `registry check` takes the dataset's edited copy itself: the same image, by PDQ
    out = _cli(settings.home, "registry", "check", "--image", str(folder / f"{EDITED}.jpg"),
               "--image", str(folder / f"{UNCLAIMED}.jpg"), "--json")  # fmt: skip
    decisions = json.loads(out)["decisions"]
    assert [(d["decision"], d["claim_ids"]) for d in decisions] == [
        ("do_not_train", [ids[1]]),
        ("unknown", []),
    ]
