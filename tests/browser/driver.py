"""A headless Chromium for this offline machine, and the screenshot tour of the web app.

Test tooling, kept beside the browser tests that use it; ``scripts/screenshots.py`` (which
regenerates ``docs/screenshots/`` for the README) borrows it. Chromium is the Debian package
(``/usr/bin/chromium``, installed by ``make system-deps``), launched with a fresh temporary
profile and every background network feature off, so a run never tries to reach the internet.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "chromium", "new_context", "screenshot_tour"]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)  # fmt: skip


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium (Playwright makes a fresh temporary profile), closed on exit."""
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            yield browser
        finally:
            browser.close()


def new_context(browser: Browser, *, javascript: bool = True) -> BrowserContext:
    """A fresh context (own cookies and storage) with the screenshot viewport."""
    return browser.new_context(
        viewport={"width": 1200, "height": 900}, java_script_enabled=javascript
    )


def _shot(page: Page, out: Path, name: str) -> Path:
    path = out / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def screenshot_tour(context: BrowserContext, base_url: str, out: Path, photo: Path) -> list[Path]:
    """Screenshots of the main pages of a demo catalog: search, results, row, datasets.

    ``photo`` is a query image that is in the catalog (the demo's ``china.jpg``).
    """
    out.mkdir(parents=True, exist_ok=True)
    page = context.new_page()
    shots = []
    page.goto(f"{base_url}/")
    shots.append(_shot(page, out, "search"))
    page.goto(f"{base_url}/search?q=%22Falcon+9%22+rocket&kind=text")
    shots.append(_shot(page, out, "results-caption"))
    page.goto(f"{base_url}/search?q=staticflickr.com&kind=domain")
    shots.append(_shot(page, out, "results-domain"))
    page.goto(f"{base_url}/")
    page.set_input_files("#image", str(photo))
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#summary")
    shots.append(_shot(page, out, "results-image"))
    page.click("#group-same_file ~ ol .card a")
    page.wait_for_selector(".rowdetail")
    shots.append(_shot(page, out, "row"))
    page.goto(f"{base_url}/datasets")
    shots.append(_shot(page, out, "datasets"))
    page.close()
    return shots
