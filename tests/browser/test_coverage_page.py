"""The upload answer over a LAION-like release nobody fingerprinted says "not searched"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sklearn.datasets
from driver import new_context
from playwright.sync_api import Browser, expect

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


def test_upload_over_an_unfingerprinted_release_is_not_searched(
    unfingerprinted: str, chromium_browser: Browser
) -> None:
    context = new_context(chromium_browser)
    page = context.new_page()
    page.goto(unfingerprinted)
    page.set_input_files("#image", [str(PHOTO)])
    page.click("#upload-form button[type=submit]")
    expect(page.locator("#summary .files")).to_contain_text("not searched")
    coverage = page.locator("#coverage")
    expect(coverage).to_contain_text("laionlike/main: not searched: none of its 40 rows")
    expect(coverage.locator(".cover-command")).to_have_text(
        "traindex fingerprint --dataset laionlike/main --download"
    )
    expect(coverage.locator(".verify-command")).to_contain_text("--verify-candidates")
    expect(page.locator("#empty-state")).not_to_contain_text("None of your images is in")
    expect(page.locator("#empty-state")).to_contain_text("not searched")
    context.close()
