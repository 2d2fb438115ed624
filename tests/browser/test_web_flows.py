"""The web app in real Chromium: search flows, opt-out flow, CSRF and upload limits."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
from driver import screenshot_tour
from PIL import Image
from playwright.sync_api import BrowserContext, Page, expect

from .conftest import Site

pytestmark = [pytest.mark.shared, pytest.mark.slow]


def _page(context: BrowserContext) -> Page:
    return context.new_page()


def _noise_png(path: Path, side: int) -> Path:
    pixels = np.random.default_rng(6).integers(0, 256, (side, side, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, "PNG")
    return path


def test_upload_photos_and_see_their_matches(
    site: Site, browser: BrowserContext, tmp_path: Path
) -> None:
    edited = tmp_path / "flower-small.jpg"
    with Image.open(site.photos / "flower.jpg") as image:
        image.resize((image.width // 2, image.height // 2)).save(edited, "JPEG", quality=60)
    page = _page(browser)
    page.goto(site.url)
    page.set_input_files("#image", [str(site.photos / "china.jpg"), str(edited)])
    expect(page.locator("#selected")).to_contain_text("2 image(s) selected")
    page.click("#upload-form button[type=submit]")
    expect(page.locator("#summary h1")).to_contain_text("for 2 image(s)")
    same_file = page.locator("section:has(#group-same_file) .card")
    expect(same_file).to_have_count(1)
    expect(same_file).to_contain_text("photos.csv : 0")
    same_image = page.locator("section:has(#group-same_image) .card")
    expect(same_image).to_contain_text("PDQ distance")
    expect(same_image).to_contain_text("flower-small.jpg")
    thumb = same_file.locator("img")
    expect(thumb).to_have_attribute("src", re.compile(r"^/thumbs/demo-photos/demo/0/0\.jpg$"))
    # The thumbnail loads after the results are swapped in: wait for it (up to the default
    # timeout) instead of reading it once, then check it decoded to real pixels.
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle()
    )
    assert thumb.evaluate("img => img.naturalWidth") > 0
    page.close()


def test_name_search_highlights_captions_without_js(
    site: Site, browser_without_js: BrowserContext
) -> None:
    page = _page(browser_without_js)
    page.goto(site.url)
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Skip to content")
    page.fill("#q", "danielbuechele")
    page.press("#q", "Enter")
    expect(page.locator("#group-text")).to_contain_text("Caption mentions")
    marks = page.locator("mark").all_inner_texts()
    assert marks
    assert {m.lower() for m in marks} == {"danielbuechele"}
    page.close()


def test_domain_search_paginates(site: Site, browser_without_js: BrowserContext) -> None:
    page = _page(browser_without_js)
    page.goto(site.url)
    page.fill("#q", "staticflickr.com")
    page.select_option("#kind", "domain")
    page.click("#query-form button[type=submit]")
    summary = page.locator("#summary")
    expect(summary).to_contain_text("Showing 1\u20135 of")
    total = int(re.search(r"of ([\d,]+)", summary.inner_text()).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert total > 10
    expect(page.locator("#group-domain ~ ol .card")).to_have_count(5)
    page.click("nav.pagination a[rel=next]")
    expect(summary).to_contain_text("Showing 6\u201310 of")
    page.locator("nav.pagination a").filter(has_text=re.compile(r"^\d+$")).last.click()
    expect(summary).to_contain_text(f"of {total:,}")
    expect(page.locator("nav.pagination a[aria-current=page]")).to_have_text(str(-(-total // 5)))
    page.close()


def test_sign_up_claim_verify_and_see_the_claims(site: Site, browser: BrowserContext) -> None:
    page = _page(browser)
    page.goto(f"{site.url}/signup")
    page.fill("#name", "Browser Studio")
    page.click("#signup-form button[type=submit]")
    token = page.locator("#api-token").inner_text().strip()
    page.click("form.signout button")
    page.goto(f"{site.url}/signin")
    page.fill("#token", token)
    page.click("#signin-form button[type=submit]")
    expect(page.locator("h1")).to_have_text("My claims")
    page.goto(f"{site.url}/search?q=staticflickr.com&kind=domain")
    boxes = page.locator("input[type=checkbox][form=claim-form]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.click("#claim-form button[type=submit]")
    expect(page.locator("#claims-table tbody tr")).to_have_count(2)
    page.goto(f"{site.url}/search?q=staticflickr.com&kind=domain")
    page.click("#claim-domain-form button[type=submit]")
    expect(page.locator("#verify-heading")).to_contain_text("staticflickr.com")
    proof = page.locator("#verification-token").inner_text().strip()
    site.proof["/.well-known/traindex-verification.txt"] = proof + "\n"
    page.click("#verification button[type=submit]")
    expect(page.locator("#claim-status")).to_have_text("verified")
    page.click("text=All my claims")
    rows = page.locator("#claims-table tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.filter(has_text="domain")).to_contain_text("verified")
    page.close()


def test_a_forged_form_is_rejected(site: Site, browser: BrowserContext) -> None:
    page = _page(browser)
    page.goto(f"{site.url}/signup")
    page.fill("#name", "Forger")
    page.eval_on_selector("input[name=csrf_token]", "el => { el.value = 'forged'; }")
    with page.expect_response(f"{site.url}/signup") as answer:
        page.click("#signup-form button[type=submit]")
    assert answer.value.status == 403
    expect(page.locator("#error-message")).to_contain_text("CSRF check failed")
    page.close()


def test_oversized_uploads_say_what_the_limit_is(
    site: Site, browser: BrowserContext, tmp_path: Path
) -> None:
    page = _page(browser)
    page.goto(site.url)
    page.set_input_files("#image", str(_noise_png(tmp_path / "huge.png", 1100)))
    page.click("#upload-form button[type=submit]")
    expect(page.locator("#error-message")).to_contain_text("over the 3.0 MB limit per search")
    page.goto(site.url)
    page.set_input_files(
        "#image", [str(_noise_png(tmp_path / "big.png", 900)), str(site.photos / "china.jpg")]
    )
    page.click("#upload-form button[type=submit]")
    expect(page.locator(".file-error")).to_contain_text("over the 2.0 MB limit")
    expect(page.locator(".file-found")).to_contain_text("china.jpg")
    page.close()


def test_screenshot_tour(site: Site, browser: BrowserContext, tmp_path: Path) -> None:
    shots = screenshot_tour(browser, site.url, tmp_path / "shots", site.photos / "china.jpg")
    assert [p.name for p in shots] == [
        "search.png", "results-caption.png", "results-domain.png", "results-image.png",
        "row.png", "datasets.png",
    ]  # fmt: skip
    for path in shots:
        with Image.open(io.BytesIO(path.read_bytes())) as image:
            assert image.format == "PNG"
            assert image.width == 1200


_AUDIT = """() => {
  const problems = [];
  const fields = document.querySelectorAll("input:not([type=hidden]), select, textarea");
  for (const el of fields) {
    const named = (el.id && document.querySelector(`label[for="${el.id}"]`))
      || el.closest("label") || el.getAttribute("aria-label");
    if (!named) problems.push("unlabelled " + el.outerHTML.slice(0, 80));
  }
  for (const img of document.querySelectorAll("img")) {
    if (!(img.getAttribute("alt") || "").trim()) problems.push("no alt " + img.src);
  }
  const ids = [...document.querySelectorAll("[id]")].map((el) => el.id);
  const dups = new Set(ids.filter((id, i) => ids.indexOf(id) !== i));
  for (const id of dups) problems.push("dup id " + id);
  if (document.querySelectorAll("h1").length !== 1) problems.push("not exactly one h1");
  if (!document.documentElement.lang) problems.push("no lang");
  return problems;
}"""


def test_pages_pass_a_basic_accessibility_audit(site: Site, browser: BrowserContext) -> None:
    page = _page(browser)
    paths = [
        "/", "/search?q=kitten", "/search?q=sneakerdog&kind=flickr_user",
        "/rows/demo-photos/demo?shard=photos.csv&row=0", "/datasets", "/faces",
        "/search?q=kitten&offset=500", "/signin", "/signup",  # the test signs up here
    ]  # fmt: skip
    problems = {}
    for path in paths:
        page.goto(site.url + path)
        problems[path] = page.evaluate(_AUDIT)
    page.fill("#name", "Audit Studio")
    page.click("#signup-form button[type=submit]")
    for path in ["/search?q=staticflickr.com&kind=domain", "/claims/new", "/claims"]:
        page.goto(site.url + path)
        problems[path] = page.evaluate(_AUDIT)
    page.goto(site.url)
    page.set_input_files("#image", str(site.photos / "china.jpg"))
    page.click("#upload-form button[type=submit]")
    expect(page.locator("form.report-form")).to_have_count(2)  # report and letter
    problems["POST /search"] = page.evaluate(_AUDIT)
    assert problems == {path: [] for path in problems}
    page.close()
