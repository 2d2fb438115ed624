"""``fingerprint --iscc`` and ``filter --iscc-release`` on the shared Flickr photos.

The dataset holds an exact copy of photo A, a resized JPEG copy of photo B and the other
photos as they are; declarations made from the *original* A and B (as a creator would
make them with iscc-sdk) must remove exactly the rows of A and B, and nothing else.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from PIL import Image, ImageOps
from typer.testing import CliRunner

from traindex.cli.main import app
from traindex.config import Settings
from traindex.download.stage import DownloadOptions
from traindex.errors import InputError
from traindex.fingerprint.iscc import (
    DEFAULT_ISCC_RADIUS,
    image_code,
    image_code_body,
    image_code_of_pixels,
    iscc_distance,
)
from traindex.ingest.pipeline import ingest
from traindex.jobs.fingerprint import FingerprintReport, fingerprint

pytestmark = pytest.mark.shared
PHOTOS = "conceptual-captions/competition/skeleton/conceptual-captions/test_images"
EXACT, RESIZED, BROKEN = "0006400c1c224e19", "000adef7197e3118", "00416784a9cb1756"
runner = CliRunner()


@pytest.fixture(scope="module")
def home(
    tmp_path_factory: pytest.TempPathFactory,
    shared_data: Path,
    shrunk_jpeg: Callable[[Path, int, int], bytes],
    iscc_credits: Callable[[Path, dict[str, bytes]], tuple[Settings, FingerprintReport]],
) -> tuple[Settings, Path]:
    root = tmp_path_factory.mktemp("iscc")
    images = {
        path.stem: shrunk_jpeg(path, 2, 60) if path.stem == RESIZED else path.read_bytes()
        for path in sorted((shared_data / PHOTOS).glob("*.jpg"))
    }
    settings, report = iscc_credits(root, images | {BROKEN: b"not an image"})
    assert (report.iscc_images, report.images, report.errors) == (18, 18, 1)
    return settings, root / "images"


def test_the_stage_writes_one_code_per_image_and_resumes(home: tuple[Settings, Path]) -> None:
    settings, folder = home
    [table] = [pq.read_table(p) for p in (settings.datasets_dir / "credits/main/iscc").glob("*")]
    rows = {r["key"]: r for r in table.to_pylist()}
    assert rows[BROKEN]["iscc"] is None
    assert "not an image" in rows[BROKEN]["error"]
    exact = (folder / f"{EXACT}.jpg").read_bytes()
    assert rows[EXACT]["iscc"] == image_code_body(image_code(exact))
    [again] = fingerprint(settings, "credits", images=folder, workers=1, iscc=True)
    assert (again.shards_skipped, again.iscc_images) == (1, 0)


def test_filter_removes_the_declared_images_and_keeps_the_rest(
    home: tuple[Settings, Path], shared_data: Path, tmp_path: Path
) -> None:
    settings, folder = home
    photos = shared_data / PHOTOS
    declared = [image_code((photos / f"{k}.jpg").read_bytes()) for k in (EXACT, RESIZED)]
    source = tmp_path / "decl.json"
    source.write_text(json.dumps([{"iscc": c, "train-ai": "false"} for c in declared]))
    base = ["--home", str(settings.home)]
    done = runner.invoke(app, [*base, "registry", "import-declaration", str(source),
                               "--owner", "Studio"])  # fmt: skip
    assert done.exit_code == 0, done.output
    out = tmp_path / "out.csv"
    done = runner.invoke(app, [*base, "filter", str(photos / "credits.csv"), "--out", str(out),
                               "--iscc-release", "credits", "--include-unverified"])  # fmt: skip
    assert done.exit_code == 0, done.output
    kept = {row["ImageID"] for row in csv.DictReader(out.open())}
    every = {row["ImageID"] for row in csv.DictReader((photos / "credits.csv").open())}
    # brute force: the rows whose fingerprinted image is within the radius of a declaration
    expected_gone = {
        path.stem
        for path in folder.glob("*.jpg")
        if path.stem != BROKEN
        and any(
            iscc_distance(image_code_body(image_code(path.read_bytes())), image_code_body(c))
            <= DEFAULT_ISCC_RADIUS
            for c in declared
        )
    }
    assert expected_gone == {EXACT, RESIZED}
    assert every - kept == expected_gone
    plain = tmp_path / "plain.csv"
    done = runner.invoke(app, [*base, "filter", str(photos / "credits.csv"), "--out", str(plain),
                               "--include-unverified"])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert {row["ImageID"] for row in csv.DictReader(plain.open())} == every


def test_filter_without_the_stage_says_so(
    home: tuple[Settings, Path], shared_data: Path, tmp_path: Path
) -> None:
    settings, _ = home
    source = shared_data / PHOTOS / "credits.csv"
    ingest(settings, source, dataset="unhashed", release="main")
    for name, message in (("nothing", "no dataset 'nothing'"), ("unhashed", "no ISCC codes")):
        done = runner.invoke(app, ["--home", str(settings.home), "filter", str(source), "--out",
                                   str(tmp_path / "y.csv"), "--iscc-release", name])  # fmt: skip
        assert done.exit_code != 0
        assert message in " ".join(done.output.split())


def test_normalisation_trims_borders_and_follows_exif(shared_data: Path) -> None:
    """iscc-sdk's normalisation: a uniform frame and an EXIF rotation do not change the code."""
    with Image.open(shared_data / PHOTOS / f"{EXACT}.jpg") as opened:
        image = opened.convert("RGB")
    framed = ImageOps.expand(image, border=40, fill=(255, 255, 255))
    assert image_code_of_pixels(framed) == image_code_of_pixels(image)
    turned = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned; a viewer rotates it back
    image.transpose(Image.Transpose.ROTATE_90).save(turned, "PNG", exif=exif)
    upright = io.BytesIO()
    image.save(upright, "PNG")
    assert image_code(turned.getvalue()) == image_code(upright.getvalue())


def test_iscc_with_download_is_refused(home: tuple[Settings, Path]) -> None:
    """Downloaded bytes are not kept for a second pass: asking for both is an error."""
    settings, _ = home
    with pytest.raises(InputError, match="--iscc needs the images on disk"):
        fingerprint(settings, "credits", download=DownloadOptions(settings), iscc=True)
