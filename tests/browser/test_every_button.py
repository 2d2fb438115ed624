"""Every button a user can press, pressed in real Chromium, and what comes back checked.

Each test lists the buttons a page shows and fails if one was not pressed, so a button
added later without a test fails here. Downloads are opened: report PDFs with pypdf, the
signed JSON with ``open_sealed`` (the function ``traindex report verify`` uses), letters
checked for every row the results page listed.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Download, Page, expect
from pypdf import PdfReader

from traindex.evidence.seal import open_sealed
from traindex.fingerprint.iscc import image_code

from .conftest import Site

pytestmark = [pytest.mark.shared, pytest.mark.slow]

_LABEL = """() => [...document.querySelectorAll("button")].map((b) => {
  const form = b.form;
  return (form ? form.getAttribute("action") : "-") + " " + b.textContent.trim();
})"""


def _buttons(page: Page) -> set[str]:
    """Every button on the page as ``'<form action> <label>'``."""
    return set(page.evaluate(_LABEL))


def _download(page: Page, form: str, **choices: str) -> Download:
    for name, value in choices.items():
        page.locator(f"{form} select[name={name}]").select_option(value)
    with page.expect_download() as info:
        page.locator(f"{form} button[type=submit]").click()
    return info.value


def _bytes(download: Download) -> bytes:
    path = download.path()
    assert path is not None, download.failure()
    return Path(path).read_bytes()


def _pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _check_evidence(page: Page, rows: list[str]) -> set[str]:
    """Press Download (PDF, HTML, then signed JSON) and Create letter (PDF, then Markdown)
    on the page's report and letter forms; the report must verify and name ``rows``."""
    report, letter = "form.report-form[action='/report']", "form.report-form[action='/letter']"
    pdf = _pdf_text(_bytes(_download(page, report, format="pdf")))
    assert "Evidence report" in pdf
    html = _bytes(_download(page, report, format="html")).decode()
    _check_html_report(page, html, rows)
    sealed = open_sealed(_bytes(_download(page, report, format="json")))
    listed = {f"{m.source_file}:{m.row}" for m in sealed.report.matches}
    assert set(rows) <= listed
    assert re.search(r"SHA-256\s+[0-9a-f]{64}", pdf)  # its own digest (a separate report)
    for row in rows:
        assert f"row {row.rsplit(':', 1)[1]}" in pdf
    letter_pdf = _pdf_text(_bytes(_download(page, letter, letter="gdpr-access", format="pdf")))
    assert "Article 15" in letter_pdf
    markdown = _bytes(_download(page, letter, letter="removal", format="md")).decode()
    for row in rows:
        source, number = row.rsplit(":", 1)
        assert f"`{source}`, row {number}" in markdown
    assert f"Evidence: {len(listed)} matching dataset row(s)" in markdown
    return {"/report Download", "/letter Create letter"}


def _check_html_report(page: Page, html: str, rows: list[str]) -> None:
    """The HTML report, opened in the browser: a page to read, with no button to press."""
    report = page.context.new_page()
    report.set_content(html)
    assert _buttons(report) == set()
    expect(report.locator("h1").first).to_contain_text("Evidence report")
    text = report.locator("table.matches").first.inner_text()
    for row in rows:
        assert f"row {row.rsplit(':', 1)[1]}" in text
    report.close()


def _listed_rows(page: Page) -> list[str]:
    """``source:row`` of every card on a results page (from the card's row link)."""
    links = page.locator(".card a[href^='/rows/']").evaluate_all("as => as.map(a => a.href)")
    found = []
    for href in links:
        shard = re.search(r"shard=([^&]+)", href).group(1)  # type: ignore[union-attr]
        row = re.search(r"row=(\d+)", href).group(1)  # type: ignore[union-attr]
        found.append(f"{shard.replace('%2F', '/')}:{row}")
    return list(dict.fromkeys(found))


def _type_kitten(page: Page) -> None:
    page.fill(".again #q", "kitten")
    page.select_option(".again #kind", "text")


def _new_search(page: Page, site: Site, fill: Callable[[Page], None], button: str) -> None:
    page.locator("details.again summary").click()
    fill(page)
    page.locator(button).click()
    expect(page.locator("#summary h1")).to_be_visible()
    assert "error-message" not in page.content()


def test_home_page_buttons(site: Site, browser: BrowserContext) -> None:
    page = browser.new_page()
    page.goto(site.url)
    shown = _buttons(page)
    page.fill("#q", "kitten")
    page.click("#query-form button[type=submit]")
    expect(page.locator("#summary h1")).to_contain_text("match(es) for text")
    page.goto(site.url)
    page.set_input_files("#image", str(site.photos / "china.jpg"))
    page.click("#upload-form button[type=submit]")
    expect(page.locator("#summary h1")).to_contain_text("for 1 image(s)")
    assert shown == {"/search Search", "/search Search images"}
    page.close()


@pytest.mark.parametrize(
    "path",
    [
        "/search?q=kitten&kind=text",
        "/search?q=staticflickr.com&kind=domain",
        "/search?q=https://www.flickr.com/photos/vultilion/6056698931/&kind=url",
    ],
)
def test_query_results_page_buttons(site: Site, browser: BrowserContext, path: str) -> None:
    page = browser.new_page()
    page.goto(site.url + path)
    expect(page.locator("#summary h1")).not_to_have_text(re.compile(r"^0 match"))
    shown = _buttons(page)
    pressed = _check_evidence(page, _listed_rows(page))
    _new_search(page, site, _type_kitten, ".again #query-form button")
    page.goto(site.url + path)
    _new_search(
        page,
        site,
        lambda p: p.set_input_files(".again #image", str(site.photos / "flower.jpg")),
        ".again #upload-form button",
    )
    pressed |= {"/search Search", "/search Search images"}
    assert shown == pressed
    page.close()


def test_image_results_page_buttons(site: Site, browser: BrowserContext) -> None:
    page = browser.new_page()
    page.goto(site.url)
    photos = [site.photos / "china.jpg", site.photos / "flower.jpg"]
    page.set_input_files("#image", [str(p) for p in photos])
    page.click("#upload-form button[type=submit]")
    expect(page.locator("#summary h1")).to_contain_text("for 2 image(s)")
    shown = _buttons(page)
    rows = _listed_rows(page)
    assert rows
    pressed = _check_evidence(page, rows)
    markdown = _bytes(_download(page, "form.report-form[action='/report']", format="json")).decode()
    searched = {q["value"] for q in json.loads(markdown)["report"]["queries"]}
    assert searched == {"china.jpg", "flower.jpg"}
    pressed |= {"/search Search", "/search Search images"}
    assert shown == pressed
    page.close()


def test_row_page_buttons(site: Site, browser: BrowserContext) -> None:
    page = browser.new_page()
    page.goto(f"{site.url}/rows/demo-photos/demo?shard=photos.csv&row=0")
    shown = _buttons(page)
    pressed = _check_evidence(page, ["photos.csv:0"])
    assert shown == pressed
    page.close()


def _declarations(page: Page, site: Site) -> None:
    """On "My claims": import a TDM·AI declaration of a demo photo, then export it."""
    assert _buttons(page) == {"/signout Sign out", "/claims/declarations Import declarations"}
    photo = sorted(p for p in site.photos.rglob("*") if p.suffix in (".jpg", ".png"))[0]
    declaration = {"iscc": image_code(photo.read_bytes()), "train-ai": "false"}
    page.set_input_files(
        "#declaration-file",
        {"name": "mine.json", "mimeType": "application/json",
         "buffer": json.dumps(declaration).encode()},
    )  # fmt: skip
    page.click("#declaration-form button[type=submit]")
    expect(page.locator("#done-message")).to_contain_text("Imported 1 declaration(s)")
    expect(page.locator("#claims-table tbody tr")).to_have_count(1)
    with page.expect_download() as info:
        page.click("#export-declarations")
    assert json.loads(_bytes(info.value)) == [declaration]
    page.click("#claims-table tbody tr a")
    expect(page.locator("#claim-iscc")).to_have_text(declaration["iscc"])
    page.goto(f"{site.url}/claims")


def test_claim_pages_buttons(site: Site, browser: BrowserContext) -> None:
    page = browser.new_page()
    page.goto(f"{site.url}/signup")
    assert _buttons(page) == {"/signup Create account"}
    page.fill("#name", "Every Button Studio")
    page.click("#signup-form button[type=submit]")
    token = page.locator("#api-token").inner_text().strip()
    page.click("form.signout button")
    page.goto(f"{site.url}/signin")
    assert _buttons(page) == {"/signin Sign in"}
    page.fill("#token", token)
    page.click("#signin-form button[type=submit]")
    expect(page.locator("h1")).to_have_text("My claims")
    _declarations(page, site)
    page.goto(f"{site.url}/claims/new")
    assert _buttons(page) == {"/signout Sign out", "/claims/new Register claim"}
    page.check("#kind-domain")
    page.fill("#value", "example.org")
    page.click("#claim-new-form button[type=submit]")
    expect(page.locator("#claim-status")).to_have_text("unverified")
    claim = page.url
    verify = f"{claim.removeprefix(site.url)}/verify"
    assert _buttons(page) == {
        "/signout Sign out",
        f"{verify} Check now",
        f"{verify[:-7]}/revoke Revoke this claim",
    }
    page.click("#verification button[type=submit]")
    expect(page.locator("#error-message, #claim-status").first).to_be_visible()
    page.goto(claim)
    page.click("form.revoke button")
    expect(page.locator("#claim-status")).to_have_text("revoked")
    page.click("form.signout button")
    expect(page.locator("form.signout")).to_have_count(0)
    page.close()
