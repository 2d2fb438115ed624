"""What a new user meets in Chromium: name searches, API docs, paging, big files, row
labels and the face tab when it is off or has nothing to search."""

from __future__ import annotations

import io
import re
import struct
import zlib
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, expect

from traindex.server.app import create_app
from traindex.server.running import serve_in_thread

from .conftest import Site

pytestmark = [pytest.mark.shared, pytest.mark.slow]


def test_a_name_means_all_its_words(site: Site, browser: BrowserContext) -> None:
    page = browser.new_page()
    page.goto(f"{site.url}/search?q=Robert+Kneschke&kind=text")
    expect(page.locator("#summary h1")).to_contain_text("0 match(es)")
    expect(page.locator("#text-rule")).to_contain_text("every word: robert, kneschke")
    page.goto(f"{site.url}/search?q=Robert+Burns&kind=text")
    cards = page.locator("#group-text ~ ol .card")
    expect(cards).to_have_count(1)
    expect(cards.locator(".matched-words")).to_have_text("robert, burns")
    page.goto(f"{site.url}/search?q=Robert+OR+Burns&kind=text&limit=50")
    expect(page.locator("#text-rule")).to_contain_text("any of the words")
    words = page.locator(".matched-words").all_inner_texts()
    assert len(words) > 1
    assert "robert, burns" in words
    assert set(words) - {"robert, burns"} <= {"robert", "burns"}
    page.close()


def test_api_docs_list_the_operations(site: Site, browser: BrowserContext) -> None:
    page = browser.new_page()
    page.goto(f"{site.url}/docs")
    expect(page.locator(".opblock-summary-path").first).to_be_visible(timeout=30_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert {"/api/search", "/api/datasets"} <= {p.replace("\u200b", "") for p in paths}
    assert page.get_by_text("Unable to render this definition").count() == 0
    page.close()


def test_paging_past_the_end_says_so_and_links_back(site: Site, browser: BrowserContext) -> None:
    page = browser.new_page()
    page.goto(f"{site.url}/search?q=staticflickr.com&kind=domain&offset=5000")
    summary = page.locator("#summary")
    expect(page.locator("#past-end")).to_contain_text("No more results")
    assert "Showing" not in summary.inner_text()
    total = int(re.search(r"([\d,]+) match", summary.inner_text()).group(1).replace(",", ""))  # type: ignore[union-attr]
    page.click("#past-end a")
    last = (total - 1) // 5 * 5
    expect(summary).to_contain_text(f"Showing {last + 1:,}\u2013{total:,} of {total:,}")
    page.close()


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width`` x ``height`` (a pixel bomb)."""
    buf = io.BytesIO()
    from PIL import Image

    Image.new("1", (1, 1)).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def test_a_pixel_bomb_is_refused_in_the_promised_words(
    site: Site, browser: BrowserContext, tmp_path: Path
) -> None:
    page = browser.new_page()
    page.goto(site.url)
    expect(page.locator("#image-help")).to_contain_text("50 megapixels each")
    files = []
    for name, side in (("poster.png", 9_000), ("bomb.png", 30_000)):
        files.append(tmp_path / name)
        files[-1].write_bytes(_png_claiming(side, side))
    page.set_input_files("#image", [str(f) for f in files])
    page.click("#upload-form button[type=submit]")
    errors = page.locator(".file-error")
    expect(errors).to_have_count(2)
    poster, bomb = errors.all_inner_texts()
    assert poster.startswith("poster.png:")
    assert "9,000 x 9,000 = 81 megapixels, more than the limit of 50 megapixels" in poster
    assert bomb.startswith("bomb.png:")
    assert "over the limit of 50 megapixels per image" in bomb
    assert "decompression bomb" not in bomb
    page.close()


def test_row_pages_use_labels_not_column_names(site: Site, browser: BrowserContext) -> None:
    page = browser.new_page()
    page.goto(f"{site.url}/rows/coyo700m-preview/demo?shard=coyo700m_readme_preview.parquet&row=0")
    labels = page.locator(".record dt").all_inner_texts()
    assert "Image URL" in labels
    assert "Row in the source file (0-based)" in labels
    assert "Probability of a watermark (the dataset's classifier)" in labels
    assert "aesthetic_score_laion_v2 (a column of the dataset)" in labels
    for internal in ("source_row", "url_raw", "extra", "pwatermark", "license_raw"):
        assert internal not in labels
    assert "{" not in page.locator(".record").inner_text()  # no raw JSON
    page.close()


def test_face_search_off_says_how_to_turn_it_on(site: Site, browser: BrowserContext) -> None:
    page = browser.new_page()
    answer = page.goto(f"{site.url}/faces")
    assert answer is not None
    assert answer.status == 404
    expect(page.locator("h1")).to_have_text("Face search is off on this server")
    expect(page.locator("main")).to_contain_text("TRAINDEX_FACE_SEARCH_ENABLED=1")
    expect(page.locator("main")).to_contain_text("--faces")
    page.close()


def test_face_search_without_a_face_index_says_so(
    site: Site, browser: BrowserContext, shared_data: Path
) -> None:
    faces_on = site.settings.model_copy(update={"face_search_enabled": True})
    photo = shared_data / "face_recognition/examples/knn_examples/test/obama1.jpg"
    with serve_in_thread(create_app(faces_on)) as url:
        page = browser.new_page()
        page.goto(url)
        page.set_input_files("#face-image", str(photo))
        page.click("#face-form button[type=submit]")
        expect(page.locator("#no-face-index")).to_contain_text("has a face index", timeout=60_000)
        expect(page.locator("#no-face-index")).to_contain_text("--faces")
        assert "close enough" not in page.locator("main").inner_text()
        page.close()
