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

import pytest
from PIL import Image, ImageDraw
from typer.testing import CliRunner

from traindex.catalog.store import Catalog
from traindex.cli.main import app
from traindex.config import Settings
from traindex.ingest.pipeline import ingest
from traindex.jobs.fingerprint import fingerprint
from traindex.search.images import ImageSearch

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


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, photo_dir: Path) -> Settings:
    root = tmp_path_factory.mktemp("keypoints")
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
    return settings


def test_keypoints_find_what_pdq_misses(home: Settings, photo_dir: Path) -> None:
    files = [(f"{k}.jpg", (photo_dir / f"{k}.jpg").read_bytes()) for k in EDITS]
    folder = home.home.parent / "images"
    [plain] = fingerprint(home, "credits", images=folder, workers=1)
    assert plain.errors == 1
    before = ImageSearch(Catalog(home)).search(files)
    assert not {(m.extra["query"], m.key) for m in before.matches} & {
        (f"{k}.jpg", k) for k in EDITS
    }  # PDQ and its variants miss every one of these edits

    result = runner.invoke(
        app, ["--home", str(home.home), "fingerprint", "-d", "credits", "--images", str(folder),
              "--keypoints", "--workers", "1"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "keypoints:" in result.output
    after = ImageSearch(Catalog(home)).search(files)
    found = {(m.extra["query"], m.key) for m in after.matches}
    assert {(f"{k}.jpg", k) for k in EDITS} <= found
    edited_rows = {m for m in found if m[1] in EDITS}
    assert edited_rows == {(f"{k}.jpg", k) for k in EDITS}  # no photo finds another's edit
    for match in after.matches:
        if match.key in EDITS:
            assert match.extra["variant"] == "keypoints"
            assert match.extra["inliers"] >= 10
            assert "distance" not in match.extra
            assert match.extra["confidence"] in ("likely", "certain")
            assert "points of your image line up" in match.extra["explanation"]


def test_a_rerun_resumes_and_json_carries_the_points(home: Settings, photo_dir: Path) -> None:
    folder = home.home.parent / "images"
    [again] = fingerprint(home, "credits", images=folder, workers=1, keypoints=None)
    assert again.shards_skipped == again.shards
    key = "006adbf1ca23aa4d"
    args = ["--home", str(home.home), "search", "--image", str(photo_dir / f"{key}.jpg"), "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    matches = [m for m in json.loads(result.stdout)["matches"] if m["key"] == key]
    [match] = matches
    assert match["variant"] == "keypoints"
    assert 0.4 < match["keypoint_scale"] < 2.5
    assert match["inliers"] >= 10
