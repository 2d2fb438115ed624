"""The upload answer over a LAION-like release nobody fingerprinted says "not searched"."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sklearn.datasets
from driver import new_context
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, expect
from tests.unit.clip.conftest import write_model
from tests.unit.download.conftest import (
    HOSTS,
    ImageSite,
    cc3m_photos,
    serve_site,
    write_clip_release,
    write_release,
)

from traindex.config import Settings
from traindex.ingest.pipeline import ingest
from traindex.server.app import create_app
from traindex.server.running import serve_in_thread

PHOTO = Path(sklearn.datasets.__file__).parent / "images" / "china.jpg"


@pytest.fixture
def unfingerprinted(tmp_path: Path) -> Iterator[str]:
    source = tmp_path / "laion"
    source.mkdir()
    urls = [f"http://photos.example/img/{i}.jpg" for i in range(40)]
    table = pa.table({"URL": urls, "TEXT": [f"photo {i}" for i in range(40)]})
    pq.write_table(table, source / "part-00000.parquet")
    settings = Settings(home=tmp_path / "home")
    ingest(settings, source, dataset="laionlike", release="main", fmt="laion")
    with serve_in_thread(create_app(settings)) as url:
        yield url


def _upload(context: BrowserContext, url: str, photo: Path) -> Page:
    """Upload ``photo`` on the search page; the answer says "not searched"."""
    page = context.new_page()
    page.goto(url)
    page.set_input_files("#image", [str(photo)])
    page.click("#upload-form button[type=submit]")
    expect(page.locator("#summary .files")).to_contain_text("not searched")
    return page


def test_upload_over_an_unfingerprinted_release_is_not_searched(
    unfingerprinted: str, chromium_browser: Browser
) -> None:
    context = new_context(chromium_browser)
    page = _upload(context, unfingerprinted, PHOTO)
    coverage = page.locator("#coverage")
    expect(coverage).to_contain_text("laionlike/main: not searched: none of its 40 rows")
    expect(coverage.locator(".cover-command")).to_have_text(
        "traindex fingerprint --dataset laionlike/main --download"
    )
    expect(coverage.locator(".verify-command")).to_contain_text("--verify-candidates")
    expect(page.locator("#empty-state")).not_to_contain_text("None of your images is in")
    expect(page.locator("#empty-state")).to_contain_text("not searched")
    context.close()


@pytest.fixture
def served_release(tmp_path: Path, shared_data: Path) -> Iterator[tuple[str, ImageSite]]:
    """A LAION-like release nobody fingerprinted whose row URLs serve real photos on
    loopback (photos.example and cdn.example reach 127.0.0.1), and the app over it."""
    with serve_site(ImageSite(cc3m_photos(shared_data))) as site:
        source = tmp_path / "laion"
        write_release(site, source, parts=1, special=False)
        settings = Settings(
            home=tmp_path / "home", download_connect_host="127.0.0.1",
            download_per_host_rate=1000, download_total_timeout=4, web_verify_candidates=20,
        )  # fmt: skip
        ingest(settings, source, dataset="laionlike", release="main", fmt="laion")
        with serve_in_thread(create_app(settings)) as url:
            yield url, site


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_upload_offers_the_candidate_check_and_it_proves_the_row(
    served_release: tuple[str, ImageSite],
    chromium_browser: Browser,
    tmp_path: Path,
    javascript: bool,
) -> None:
    url, site = served_release
    names = sorted(site.photos)
    mine = tmp_path / "mine.jpg"
    with Image.open(io.BytesIO(site.photos[names[1]])) as photo:  # served by cdn.example
        rgb = photo.convert("RGB")
        rgb.resize((rgb.width * 3 // 4, rgb.height * 3 // 4)).save(mine, "JPEG", quality=75)
    context = new_context(chromium_browser, javascript=javascript)
    page = _upload(context, url, mine)
    check = page.locator("#coverage form.verify-form")
    expect(check).to_contain_text("up to 20 of them are downloaded")
    expect(check.locator(".verify-clip-off")).to_contain_text("no CLIP weights configured")
    check.locator("input[name=q]").fill(HOSTS[1])
    if not javascript:  # without the script the files are chosen again
        check.locator("input[type=file]").set_input_files([str(mine)])
    check.get_by_role("button", name="Download and check these rows").click()
    expect(page.locator("#summary .files")).to_contain_text("mine.jpg: found in 1 row(s)")
    expect(page.locator("#candidates")).to_contain_text(
        f"Checked 9 candidate row(s) picked by domain {HOSTS[1]} (at most 20)"
    )
    expect(page.locator("#candidates")).to_contain_text("9 downloaded and compared")
    expect(page.locator("main")).to_contain_text("verified by download at")
    expect(page.locator("main")).to_contain_text(names[1])
    expect(page.locator("#coverage")).to_contain_text("searched 9 of 18 rows")
    fetched = {path for path, host in site.seen if path.startswith("/img/")}
    assert fetched == {f"/img/{n}" for n in names[1::2]}, "only the domain's rows"
    context.close()


@pytest.fixture
def clip_release(tmp_path: Path, shared_data: Path) -> Iterator[tuple[str, ImageSite, list[str]]]:
    """A LAION-embeddings release whose rows serve real photos on loopback, and the app
    over it with the tiny test CLIP model as the operator's configured weights."""
    with serve_site(ImageSite(cc3m_photos(shared_data))) as site:
        model = write_model(tmp_path / "clip", text=False)
        source = tmp_path / "laion-emb"
        urls, _ = write_clip_release(site, model, source)
        settings = Settings(
            home=tmp_path / "home", download_connect_host="127.0.0.1",
            download_per_host_rate=1000, download_total_timeout=4, web_verify_candidates=5,
            web_verify_clip_per_image=3, clip_model_dir=model,
        )  # fmt: skip
        ingest(settings, source, dataset="clipset", release="main", fmt="laion-embeddings")
        with serve_in_thread(create_app(settings)) as url:
            yield url, site, urls


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_candidate_check_by_clip_proves_the_row(
    clip_release: tuple[str, ImageSite, list[str]],
    chromium_browser: Browser,
    tmp_path: Path,
    javascript: bool,
) -> None:
    url, site, urls = clip_release
    mine = tmp_path / "mine.jpg"
    with Image.open(io.BytesIO(site.photos[sorted(site.photos)[4]])) as photo:
        rgb = photo.convert("RGB")
        rgb.resize((rgb.width * 3 // 4, rgb.height * 3 // 4)).save(mine, "JPEG", quality=75)
    context = new_context(chromium_browser, javascript=javascript)
    page = _upload(context, url, mine)
    check = page.locator("#coverage form.verify-form")
    expect(check.locator(".verify-clip-off")).to_have_count(0)
    if not javascript:  # without the script the files are chosen again
        check.locator("input[type=file]").set_input_files([str(mine)])
    by_clip = "Download and check the nearest rows by CLIP"
    check.get_by_role("button", name=by_clip).click()  # no domain typed: CLIP picks
    expect(page.locator("#summary .files")).to_contain_text("mine.jpg: found in 1 row(s)")
    expect(page.locator("#candidates")).to_contain_text("Checked 3 candidate row(s) picked by")
    expect(page.locator("main")).to_contain_text("verified by download at")
    expect(page.locator("main")).to_contain_text(urls[4])
    fetched = {path for path, _ in site.seen if path.startswith("/img/")}
    assert len(fetched) == 3, "only the image's 3 nearest rows are downloaded"
    context.close()
