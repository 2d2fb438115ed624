"""Search by image where PDQ cannot help: heavy crops, big stickers, pictures in a page.

The dataset holds, for six of the CC-BY photos, one hard edit each (half the frame kept,
off-centre; a 40 % sticker; the photo shrunk into a larger grey page with other
content; a 5-degree straightened copy; a 70 % crop off the grid; a rotated, cropped and
re-encoded copy) and the *other* photos untouched. Fingerprinted with ``--keypoints``, a
query with each original must find its own edited row and nothing else of the six.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from PIL import Image, ImageDraw
from typer.testing import CliRunner

from traindex.catalog.store import Catalog
from traindex.cli.main import app
from traindex.config import Settings
from traindex.core.match_evidence import ImageEvidence
from traindex.evidence.wording import describe
from traindex.fingerprint.keypoints import KeypointOptions
from traindex.ingest.pipeline import ingest
from traindex.jobs.fingerprint import fingerprint
from traindex.search.images import ImageSearch
from traindex.server.present import match_number

from .conftest import jpeg

pytestmark = pytest.mark.shared
runner = CliRunner()


def _crop(left: float, top: float, keep: float) -> Callable[[Image.Image], Image.Image]:
    def edit(im: Image.Image) -> Image.Image:
        w, h = im.size
        box = (round(left * w), round(top * h), round((left + keep) * w), round((top + keep) * h))
        return im.crop(box)

    return edit


def _sticker(im: Image.Image) -> Image.Image:
    out = im.copy()
    side = round(min(im.size) * 0.4)
    ImageDraw.Draw(out).ellipse((20, 20, 20 + side, 20 + side), fill=(250, 200, 0))
    return out


def _in_page(im: Image.Image) -> Image.Image:
    page = Image.new("RGB", (1200, 760), (235, 235, 235))
    draw = ImageDraw.Draw(page)
    for y in range(40, 720, 60):  # menus left and right: no uniform border to trim
        draw.rectangle((30, y, 230, y + 25), fill=(60, 60, 60))
        draw.rectangle((970, y, 1170, y + 25), fill=(90, 60, 60))
    small = im.resize((im.width * 660 // max(im.size), im.height * 660 // max(im.size)))
    page.paste(small, (270, 30))
    return page


def _straightened(im: Image.Image) -> Image.Image:
    turned = im.rotate(5, resample=Image.Resampling.BICUBIC)
    w, h = im.size
    return turned.crop((w // 10, h // 10, w - w // 10, h - h // 10))


EDITS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "006adbf1ca23aa4d": _crop(0.35, 0.1, 0.5),
    "000adef7197e3118": _sticker,
    "001ad258e358b14a": _in_page,
    "004e02a535337d9b": _straightened,
    "0053e4fc02b27650": _crop(0.17, 0.08, 0.7),
    "005fd4c13ac224f4": lambda im: _crop(0.05, 0.2, 0.6)(_straightened(im)),
}


def _home(root: Path, photo_dir: Path) -> Settings:
    """Dataset ``credits`` with the edited images, fingerprinted (PDQ only)."""
    settings = Settings(home=root / "home")
    ingest(settings, photo_dir / "credits.csv", dataset="credits", release="main")
    folder = root / "images"
    folder.mkdir()
    for path in sorted(photo_dir.glob("*.jpg")):
        edit = EDITS.get(path.stem)
        with Image.open(path) as image:
            picture = edit(image.convert("RGB")) if edit else image.convert("RGB")
        (folder / path.name).write_bytes(jpeg(picture, 80))
    (folder / "00416784a9cb1756.jpg").write_bytes(b"not an image")  # one bad row
    [plain] = fingerprint(settings, "credits", images=folder, workers=1)
    assert plain.errors == 1
    return settings


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory, photo_dir: Path) -> Settings:
    return _home(tmp_path_factory.mktemp("plain"), photo_dir)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, photo_dir: Path) -> tuple[Settings, str]:
    """The same dataset, then ``traindex fingerprint --keypoints``; and what it printed."""
    settings = _home(tmp_path_factory.mktemp("points"), photo_dir)
    folder = settings.home.parent / "images"
    result = runner.invoke(
        app, ["--home", str(settings.home), "fingerprint", "-d", "credits", "--images",
              str(folder), "--keypoints", "--workers", "1"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return settings, result.output


def _files(photo_dir: Path, keys: object) -> list[tuple[str, bytes]]:
    return [(f"{k}.jpg", (photo_dir / f"{k}.jpg").read_bytes()) for k in keys]  # type: ignore[attr-defined]


def test_keypoints_find_what_pdq_misses(
    plain: Settings, home: tuple[Settings, str], photo_dir: Path
) -> None:
    files = _files(photo_dir, EDITS)
    wanted = {(f"{k}.jpg", k) for k in EDITS}
    before = ImageSearch(Catalog(plain)).search(files)
    assert not {(m.query, m.key) for m in before.matches} & wanted  # PDQ misses all

    settings, output = home
    assert "keypoints:" in output
    unpointed = ImageSearch(Catalog(settings), keypoints=False).search(files)
    assert not {(m.query, m.key) for m in unpointed.matches} & wanted  # opted out
    [table] = [
        pq.read_table(p)
        for p in (settings.datasets_dir / "credits/main/keypoints").glob("*.parquet")
    ]
    bad = [r for r in table.to_pylist() if r["error"]]
    assert [(r["key"], r["count"]) for r in bad] == [("00416784a9cb1756", 0)]  # logged, not fatal
    assert "00416784a9cb1756.jpg" in bad[0]["error"]
    after = ImageSearch(Catalog(settings)).search(files)
    found = {(m.query, m.key) for m in after.matches}
    assert {m for m in found if m[1] in EDITS} == wanted  # no photo finds another's edit
    for match in after.matches:
        if match.key in EDITS:
            evidence = match.evidence_as(ImageEvidence)
            assert evidence.variant == "keypoints"
            assert evidence.inliers is not None
            assert evidence.inliers >= 10
            assert evidence.distance is None
            assert evidence.confidence in ("likely", "certain")
            assert "points of your image line up" in evidence.explanation


def test_a_rerun_resumes_and_json_carries_the_points(
    home: tuple[Settings, str], photo_dir: Path
) -> None:
    settings = home[0]
    folder = settings.home.parent / "images"
    [again] = fingerprint(
        settings, "credits", images=folder, workers=1, keypoints=KeypointOptions()
    )
    assert (again.shards_skipped, again.keypoint_images, again.keypoints_indexed) == (1, 0, 0)
    key = "006adbf1ca23aa4d"
    args = [
        "--home",
        str(settings.home),
        "search",
        "--image",
        str(photo_dir / f"{key}.jpg"),
        "--json",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    matches = [m for m in json.loads(result.stdout)["matches"] if m["key"] == key]
    [match] = matches
    assert match["variant"] == "keypoints"
    assert 0.4 < match["keypoint_scale"] < 2.5
    assert match["inliers"] >= 10


def test_reports_word_a_keypoint_match_without_a_pdq_distance(
    home: tuple[Settings, str], photo_dir: Path
) -> None:
    key = "000adef7197e3118"
    result = ImageSearch(Catalog(home[0])).search(_files(photo_dir, [key]))
    [match] = [m for m in result.matches if m.key == key]
    wording = describe(match)
    assert wording.method == "same image (keypoints)"
    assert f"{match.evidence_as(ImageEvidence).inliers} distinctive points" in wording.measure
    assert wording.threshold == "at least 10 points"
    assert "PDQ" not in match_number(match)
    assert match_number(match).startswith(
        f"{match.evidence_as(ImageEvidence).inliers} matching keypoints"
    )
    table = runner.invoke(
        app, ["--home", str(home[0].home), "search", "--image", str(photo_dir / f"{key}.jpg")]
    )
    assert f"{match.evidence_as(ImageEvidence).inliers} points" in table.output
