"""The operator's review page in real Chromium: an owner claims photos by upload, an
operator (an owner granted ``operator``) approves one and rejects the other with a
reason, and the owner sees both decisions on their claims."""

from __future__ import annotations

import pytest
from driver import new_context  # beside conftest.py, which puts it on the path
from playwright.sync_api import Browser, BrowserContext, Page, expect

from traindex.registry.service import RegistryService

from .conftest import Site
from .test_web_flows import _AUDIT

pytestmark = [pytest.mark.shared, pytest.mark.slow]


def _sign_up(context: BrowserContext, site: Site, name: str) -> Page:
    page = context.new_page()
    page.goto(f"{site.url}/signup")
    page.fill("#name", name)
    page.click("#signup-form button[type=submit]")
    expect(page.locator("#api-token")).to_be_visible()
    return page


def test_operator_approves_and_rejects_queued_claims(
    site: Site, browser: BrowserContext, chromium_browser: Browser
) -> None:
    owner = _sign_up(browser, site, "Review Claimant")
    owner.goto(f"{site.url}/claims/new")
    owner.check("#kind-image")
    photos = sorted(site.photos.glob("*.jpg"))[:2]
    owner.set_input_files("#claim-images", [str(p) for p in photos])
    owner.click("#claim-new-form button[type=submit]")
    rows = owner.locator("#claims-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("pending")

    elsewhere = new_context(chromium_browser)  # the operator's own browser
    operator = _sign_up(elsewhere, site, "Review Operator")
    operator.goto(f"{site.url}/operator/review")
    expect(operator.locator(".alert")).to_contain_text("only registry operators")
    admin = RegistryService.open(site.settings)
    account = admin.owner_named("Review Operator")
    assert account is not None
    admin.set_operator(account)
    admin.close()
    operator.goto(f"{site.url}/claims")
    operator.click("#operator-review-link")
    queue = operator.locator("#review-table tbody tr")
    expect(queue).to_have_count(2)
    assert operator.evaluate(_AUDIT) == []
    first, second = (queue.nth(i).get_attribute("id") or "" for i in range(2))

    operator.click(f"#{first} button:has-text('Approve')")
    expect(operator.locator("#done-message")).to_contain_text("Approved")
    expect(queue).to_have_count(1)
    operator.fill(f"#{second} input[name=reason]", "This photo is a stock image by someone else")
    operator.click(f"#{second} button:has-text('Reject')")
    expect(operator.locator("#done-message")).to_contain_text("Rejected")
    expect(operator.locator("#review-empty")).to_be_visible()
    elsewhere.close()

    owner.goto(f"{site.url}/claims")
    expect(rows.filter(has_text="rejected")).to_contain_text("stock image by someone else")
    status, review = _owner_view(owner, site, first.removeprefix("review-"))
    assert status == "verified"
    assert review.startswith("Approved by a registry operator")
    status, review = _owner_view(owner, site, second.removeprefix("review-"))
    assert status == "rejected"
    assert "stock image by someone else" in review


def _owner_view(page: Page, site: Site, claim_id: str) -> tuple[str, str]:
    page.goto(f"{site.url}/claims/{claim_id}")
    status = page.locator("#claim-status").inner_text().strip()
    return status, page.locator("#review-status").inner_text().strip()
