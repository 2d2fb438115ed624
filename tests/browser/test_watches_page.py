""" "My watches" in real Chromium: a creator saves a watch, a new release arrives, the row
shows up once, and the report, the letter and the opt-out are one click from its alert;
she changes where alerts go, then deletes the watch."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, expect

from traindex.ingest.pipeline import ingest
from traindex.watch.service import WatchService

from .conftest import Site
from .test_web_flows import _AUDIT

pytestmark = [pytest.mark.shared, pytest.mark.slow]

CREDITS = "conceptual-captions/competition/skeleton/conceptual-captions/test_images/credits.csv"


def _new_release(shared_data: Path, folder: Path) -> Path:
    """A release whose second row is one of the creator's photos (on her domain)."""
    header, first, second = (shared_data / CREDITS).read_text().splitlines()[:3]
    mine = second.replace(second.split(",")[2], "https://janedoe-photo.org/2019/harbour.jpg")
    folder.mkdir()
    (folder / "part-00000.csv").write_text("\n".join([header, first, mine]) + "\n")
    return folder


def test_a_watch_reports_a_new_release_once_with_one_click_evidence(
    site: Site, browser: BrowserContext, shared_data: Path, tmp_path: Path
) -> None:
    page = browser.new_page()
    page.goto(f"{site.url}/signup")
    page.fill("#name", "Jane Doe Photo")
    page.click("#signup-form button[type=submit]")
    page.click("nav >> text=My watches")
    expect(page.locator("#no-watches")).to_be_visible()
    page.check("#watch-kind-domain")
    page.fill("#watch-value", "janedoe-photo.org")
    page.click("#watch-new-form button[type=submit]")
    expect(page.locator("section.watch h2")).to_have_text("domain janedoe-photo.org")
    expect(page.locator("section.watch")).to_contain_text("Nothing found yet")
    audit = {"/watches (empty)": page.evaluate(_AUDIT)}

    release = _new_release(shared_data, tmp_path / "next")
    for _ in range(2):  # the operator ingests (and re-ingests) the next release
        ingest(site.settings, release, dataset="next-crawl", release="2026")
        WatchService(site.settings).after_new_rows("next-crawl/2026")
    page.reload()
    rows = page.locator("table.alerts tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("next-crawl/2026")
    expect(rows).to_contain_text("https://janedoe-photo.org/2019/harbour.jpg")
    audit["/watches"] = page.evaluate(_AUDIT)

    rows.locator("text=Report, letter, opt out").click()
    expect(page.locator("h1")).to_contain_text("domain janedoe-photo.org")
    audit["/watches/alerts/N"] = page.evaluate(_AUDIT)
    with page.expect_download() as report:
        page.click("#report button[type=submit]")
    assert report.value.suggested_filename == "traindex-report.pdf"
    assert Path(report.value.path()).read_bytes().startswith(b"%PDF")
    with page.expect_download() as letter:
        page.click("#letter button[type=submit]")
    assert letter.value.suggested_filename == "traindex-gdpr-access-en.pdf"
    page.click("#alert-row-link")
    expect(page.locator("body")).to_contain_text("part-00000.csv")
    page.go_back()
    page.click("#claim-url-link")
    expect(page.locator("#claim-new-form")).to_be_visible()
    assert page.input_value("input[name=value]") == "https://janedoe-photo.org/2019/harbour.jpg"

    # where alerts go is changed on the watch itself; what it found stays; then it is deleted
    page.goto(f"{site.url}/watches")
    page.fill("form.watch-edit input[name=email]", "jane@janedoe-photo.org")
    page.click("form.watch-edit button[type=submit]")
    expect(page.locator("section.watch")).to_contain_text("e-mails to jane@janedoe-photo.org")
    expect(page.locator("table.alerts tbody tr")).to_have_count(1)
    audit["/watches (edited)"] = page.evaluate(_AUDIT)
    page.click("form.revoke button[type=submit]")
    expect(page.locator("#no-watches")).to_be_visible()
    assert audit == {path: [] for path in audit}
    page.close()
