"""The near-copy page in real Chromium: upload, see the verdicts and the region, download
the report (HTML, and a PDF whose signature verifies against the site's published key).

Its own site: the near-copy tests' training release (real photos, fingerprinted with
keypoints) served by the real app on 127.0.0.1.
"""

from __future__ import annotations

import io
import re
import runpy
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import pytest
from driver import new_context
from playwright.sync_api import Browser, BrowserContext, Page, expect
from pypdf import PdfReader

from traindex.evidence.pades import check_pdf_signature
from traindex.server.app import create_app
from traindex.server.running import serve_in_thread

pytestmark = [pytest.mark.shared, pytest.mark.slow]
EDITS = Path(__file__).resolve().parent.parent / "unit" / "nearcopy" / "edits.py"


# tests/ is not a package: run the shared module and use its namespace
edits = SimpleNamespace(**runpy.run_path(str(EDITS)))


@pytest.fixture(scope="module")
def nearcopy_site(
    tmp_path_factory: pytest.TempPathFactory, shared_data: Path
) -> Iterator[tuple[str, Path]]:
    """(site URL, folder of outputs: pasted.jpg copies training photo 0, novel.jpg not)."""
    root = tmp_path_factory.mktemp("nearcopy-site")
    photos = edits.real_photos(shared_data)
    settings = edits.build_release(root / "home", root / "images", photos[:4], keypoints=True)
    outputs = root / "outputs"
    outputs.mkdir()
    canvas = photos[20][1].resize((768, 768))
    pasted, _ = edits.pasted_at(photos[0][1], canvas, scale=0.55, place=(0.7, 0.2), angle=3.0)
    (outputs / "pasted.jpg").write_bytes(edits.jpeg(pasted, 75))
    (outputs / "novel.jpg").write_bytes(edits.jpeg(photos[21][1], 80))
    with serve_in_thread(create_app(settings)) as url:
        yield url, outputs


@pytest.fixture
def context(chromium_browser: Browser) -> Iterator[BrowserContext]:
    made = new_context(chromium_browser)
    yield made
    made.close()


def test_upload_see_the_verdict_and_region_and_download_the_report(
    nearcopy_site: tuple[str, Path], context: BrowserContext, tmp_path: Path
) -> None:
    url, outputs = nearcopy_site
    page = context.new_page()
    page.goto(url + "/")
    page.click("nav >> text=Near-copy check")
    expect(page.locator("#verdicts-explained")).to_contain_text("distinctive points")
    page.set_input_files("#nc-image", [str(outputs / "pasted.jpg"), str(outputs / "novel.jpg")])
    page.click("#nearcopy-form button[type=submit]")
    pasted = page.locator(".nc-output[data-verdict=near_copy]")
    expect(pasted).to_have_count(1)
    expect(pasted).to_contain_text("pasted.jpg")
    expect(pasted.locator(".region")).to_contain_text("px of your image (outlined)")
    expect(pasted.locator("svg polygon.outline")).to_have_count(1)
    expect(page.locator(".nc-output[data-verdict=novel]")).to_contain_text("novel.jpg")
    expect(page.locator("#nearcopy-coverage")).to_contain_text("keypoints (4 rows)")
    # the pictures are data: URIs the page's CSP allows: they decode to real pixels
    training = pasted.locator("img.nc-small")
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=training.element_handle()
    )
    assert _buttons(page) >= {"/nearcopy/report html", "/nearcopy/report pdf"}
    html = _download(page, "#report-html", tmp_path / "report.html").decode()
    assert "Near-copy report" in html
    assert '<polygon class="outline"' in html
    for name, verdict in (("pasted.jpg", "near_copy"), ("novel.jpg", "novel")):
        shown = rf'{name}</code><br>\s*<span class="verdict {verdict}">{verdict}</span>'
        assert re.search(shown, html), (name, verdict)
    pdf = _download(page, "#report-pdf", tmp_path / "report.pdf")
    keys = page.request.get(url + "/.well-known/traindex-keys.json").json()["keys"]
    current = next(k for k in keys if k["retired_at"] is None)
    # pyHanko's check runs its own event loop; Playwright's sync API holds one in this thread
    with ThreadPoolExecutor(1) as pool:
        check = pool.submit(check_pdf_signature, pdf, current["pdf_certificate"].encode()).result()
    assert check.ok, check
    assert current["fingerprint"] in check.signer
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    for word in ("pasted.jpg", "near_copy", "novel.jpg", "novel"):
        assert word in text
    page.close()


def _buttons(page: Page) -> set[str]:
    """The page's buttons as ``'<form action> <value or label>'``."""
    return set(
        page.evaluate(
            """() => [...document.querySelectorAll("button")].map((b) =>
                (b.form ? b.form.getAttribute("action") : "-") + " " +
                (b.value || b.textContent.trim()))"""
        )
    )


def _download(page: Page, button: str, saved: Path) -> bytes:
    with page.expect_download() as info:
        page.click(button)
    info.value.save_as(saved)
    assert info.value.suggested_filename == f"traindex-nearcopy{saved.suffix}"
    return saved.read_bytes()


def test_a_zipped_folder_and_a_pdf_report(
    nearcopy_site: tuple[str, Path], context: BrowserContext, tmp_path: Path
) -> None:
    url, outputs = nearcopy_site
    archive = tmp_path / "outputs.zip"
    with zipfile.ZipFile(archive, "w") as folder:
        folder.write(outputs / "pasted.jpg", "batch/pasted.jpg")
        folder.writestr("../evil.jpg", b"x")
    page = context.new_page()
    page.goto(url + "/nearcopy")
    page.set_input_files("#nc-image", str(archive))
    page.click("#nearcopy-form button[type=submit]")
    expect(page.locator(".nc-output[data-verdict=near_copy]")).to_contain_text(
        "outputs.zip/batch/pasted.jpg"
    )
    expect(page.locator(".nc-output[data-verdict=error]")).to_contain_text("unsafe path")
    page.set_input_files("#nc-image", str(outputs / "pasted.jpg"))
    page.select_option("#nc-format", "pdf")
    with page.expect_download() as info:
        page.click("#nearcopy-form button[type=submit]")
    saved = tmp_path / "report.pdf"
    info.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    assert info.value.suggested_filename == "traindex-nearcopy.pdf"
    page.close()


def test_a_forged_check_is_refused(
    nearcopy_site: tuple[str, Path], context: BrowserContext
) -> None:
    url, outputs = nearcopy_site
    page = context.new_page()
    page.goto(url + "/nearcopy")
    page.evaluate("document.querySelector('input[name=csrf_token]').value = 'forged'")
    page.set_input_files("#nc-image", str(outputs / "novel.jpg"))
    page.click("#nearcopy-form button[type=submit]")
    expect(page.locator("#error-message")).to_contain_text("CSRF check failed")
    page.close()
