"""Account and URL-prefix proofs against a real HTTP server on 127.0.0.1 that imitates
Flickr profile and photo pages and a portfolio host (by ``Host`` header and path), reached
through the connect-host override the domain proof uses."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from traindex.config import Settings
from traindex.filtering.deciders import open_decider
from traindex.filtering.run import FilterOptions, filter_inputs
from traindex.registry.errors import ClaimRejected, VerificationFailedError
from traindex.registry.models import Owner, Selector
from traindex.registry.service import RegistryService

_MAX_PAGE = 4096


@dataclass
class Site:
    """Pages by (host, path): a body, or ``("redirect", location)``; requests seen."""

    pages: dict[tuple[str, str], str | tuple[str, str]] = field(default_factory=dict)
    status: dict[tuple[str, str], int] = field(default_factory=dict)
    seen: list[tuple[str, str]] = field(default_factory=list)
    port: int = 0

    def profile(self, host: str, path: str, description: str) -> None:
        self.pages[(host, path)] = (
            "<html><head><title>Profile</title></head><body>"
            f'<div class="description">{description}</div></body></html>'
        )


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            key = ((self.headers.get("Host") or "").split(":")[0], self.path)
            site.seen.append(key)
            page = site.pages.get(key)
            if isinstance(page, tuple):
                self.send_response(302)
                self.send_header("Location", page[1])
                self.end_headers()
                return
            status = site.status.get(key, 404 if page is None else 200)
            body = (page or "not here").encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            del args

    return Handler


@pytest.fixture
def site(http_server: Callable[[type[BaseHTTPRequestHandler]], HTTPServer]) -> Iterator[Site]:
    pages = Site()
    pages.port = http_server(_handler(pages)).server_address[1]
    return pages


@pytest.fixture
def registry(settings: Settings, site: Site) -> Iterator[RegistryService]:
    local = Settings(
        home=settings.home,
        registry_verify_scheme="http",
        registry_verify_port=site.port,
        registry_verify_connect_host="127.0.0.1",
        registry_verify_timeout=2.0,
        registry_proof_max_bytes=_MAX_PAGE,
        signals_total_timeout=5.0,
    )
    service = RegistryService.open(local)
    yield service
    service.close()


def _flickr(registry: RegistryService, name: str, account: str) -> tuple[str, str, Owner]:
    owner, _ = registry.register_owner(name)
    claim = registry.add_claim(owner, Selector("flickr_owner", account))
    token = registry.verification_instructions(owner, claim.id).token
    return claim.id, token, owner


def test_code_on_the_profile_verifies_the_account(registry: RegistryService, site: Site) -> None:
    owner, _ = registry.register_owner("alice")
    claim = registry.add_claim(
        owner, Selector("flickr_owner", "https://www.flickr.com/people/AliceK/")
    )
    steps = registry.verification_instructions(owner, claim.id)
    assert steps.page_url == "https://www.flickr.com/people/alicek/"
    assert steps.domain == ""
    assert steps.page_scope == "flickr:alicek"
    site.profile("www.flickr.com", "/people/alicek/", f"Landscapes. {steps.dns_value}")
    photo_url = "https://www.flickr.com/photos/alicek/5123/"
    before = registry.check([photo_url])[0]
    assert before.decision == "unknown"
    assert before.unverified_claim_ids == (claim.id,)

    verified = registry.verify(owner, claim.id)

    assert verified.status == "verified"
    after = registry.check([photo_url])[0]  # default: verified claims only
    assert after.decision == "do_not_train"
    assert after.verified
    # the proof covers the account: permissive terms on it are now accepted
    paid = registry.add_claim(owner, Selector("flickr_owner", "alicek"), "license_required")
    assert paid.status == "verified"
    entry = next(e for e in registry.store.audit_entries() if e.action == "verify")
    assert entry.outcome == "ok"
    assert "/people/alicek/" in entry.detail


def test_code_on_a_photo_page_of_the_account(registry: RegistryService, site: Site) -> None:
    claim_id, token, owner = _flickr(registry, "bo", "bo_photo")
    site.profile("www.flickr.com", "/photos/bo_photo/777/", f"A heron. {token}")
    claim = registry.verify(owner, claim_id, page="https://www.flickr.com/photos/bo_photo/777/")
    assert claim.status == "verified"


def test_code_absent_is_not_verified_nor_queued(registry: RegistryService, site: Site) -> None:
    claim_id, _, owner = _flickr(registry, "cy", "cy_pics")
    site.profile("www.flickr.com", "/people/cy_pics/", "Only landscapes here.")
    with pytest.raises(VerificationFailedError, match="does not show the code"):
        registry.verify(owner, claim_id)
    assert registry.get_claim(claim_id).status == "unverified"
    assert registry.review_queue() == []


def test_failed_check_keeps_the_code_for_a_retry(registry: RegistryService, site: Site) -> None:
    """The photographer who pasted the code in the wrong place fixes the page and checks
    again with the same code: a failed check does not spend it."""
    claim_id, token, owner = _flickr(registry, "cyd", "cyd_pics")
    site.profile("www.flickr.com", "/people/cyd_pics/", "Only landscapes here.")
    with pytest.raises(VerificationFailedError, match="does not show the code"):
        registry.verify(owner, claim_id)
    assert registry.verification_instructions(owner, claim_id).token == token
    site.profile("www.flickr.com", "/people/cyd_pics/", f"Landscapes. {token}")
    assert registry.verify(owner, claim_id).status == "verified"
    outcomes = [e.outcome for e in registry.store.audit_entries() if e.action == "verify"]
    assert outcomes == ["ok", "denied"]  # newest first


def test_someone_elses_page_proves_nothing(registry: RegistryService, site: Site) -> None:
    claim_id, token, owner = _flickr(registry, "dee", "dee_shots")
    site.profile("www.flickr.com", "/people/mallory/", token)
    with pytest.raises(ClaimRejected, match="not a page of the claimed account"):
        registry.verify(owner, claim_id, page="https://www.flickr.com/people/mallory/")
    assert site.seen == []  # refused before anything was fetched
    # another owner claiming the same account cannot use dee's published code
    site.profile("www.flickr.com", "/people/dee_shots/", token)
    mallory_claim, _, mallory = _flickr(registry, "mallory", "dee_shots")
    with pytest.raises(VerificationFailedError, match="does not show the code"):
        registry.verify(mallory, mallory_claim)
    assert registry.verify(owner, claim_id).status == "verified"


def test_page_too_large_says_so(registry: RegistryService, site: Site) -> None:
    claim_id, token, owner = _flickr(registry, "eli", "eli_art")
    site.profile("www.flickr.com", "/people/eli_art/", "x" * (2 * _MAX_PAGE) + token)
    with pytest.raises(VerificationFailedError, match=f"larger than {_MAX_PAGE:,} bytes"):
        registry.verify(owner, claim_id)
    assert registry.get_claim(claim_id).status == "unverified"


def test_redirect_to_another_account_is_refused(registry: RegistryService, site: Site) -> None:
    claim_id, token, owner = _flickr(registry, "fay", "fay_foto")
    site.pages[("www.flickr.com", "/people/fay_foto/")] = ("redirect", "/people/mallory/")
    site.profile("www.flickr.com", "/people/mallory/", token)
    with pytest.raises(VerificationFailedError, match=r"redirected to .*/people/mallory/"):
        registry.verify(owner, claim_id)
    assert registry.get_claim(claim_id).status == "unverified"


def test_nsid_redirected_to_its_alias_page(registry: RegistryService, site: Site) -> None:
    """Flickr sends /people/NSID/ to /people/ALIAS/; the alias page carries the NSID."""
    claim_id, token, owner = _flickr(registry, "gus", "12345678@N00")
    site.pages[("www.flickr.com", "/people/12345678@N00/")] = ("redirect", "/people/gus_g/")
    site.profile("www.flickr.com", "/people/gus_g/", f'{token} <a data-nsid="12345678@N00">')
    assert registry.verify(owner, claim_id).status == "verified"


def test_unreadable_page_goes_to_review(registry: RegistryService, site: Site) -> None:
    claim_id, _, owner = _flickr(registry, "hal", "hal_h")
    site.profile("www.flickr.com", "/people/hal_h/", "")
    site.status[("www.flickr.com", "/people/hal_h/")] = 503
    with pytest.raises(VerificationFailedError, match="queued for an operator's review"):
        registry.verify(owner, claim_id)
    [queued] = registry.review_queue()
    assert queued.review.claim_id == claim_id
    assert "HTTP 503" in queued.review.why
    assert registry.get_claim(claim_id).review == queued.review


def test_url_prefix_proof(registry: RegistryService, site: Site) -> None:
    owner, _ = registry.register_owner("ivy")
    prefix = registry.add_claim(owner, Selector("url_prefix", "https://folio.example/ivy/"))
    inside = registry.add_claim(owner, Selector("url", "https://folio.example/ivy/owl.jpg"))
    outside = registry.add_claim(owner, Selector("url", "https://folio.example/joe/owl.jpg"))
    token = registry.verification_instructions(owner, prefix.id).token
    site.profile("folio.example", "/joe/about", token)
    with pytest.raises(ClaimRejected, match="not a page of the claimed prefix"):
        registry.verify(owner, prefix.id, page="https://folio.example/joe/about")
    site.pages[("folio.example", "/ivy/about")] = ("redirect", "/joe/about")
    with pytest.raises(VerificationFailedError, match="redirected to"):
        registry.verify(owner, prefix.id, page="https://folio.example/ivy/about")
    token = registry.verification_instructions(owner, prefix.id).token  # failures spend it
    site.profile("folio.example", "/ivy/about", f"About Ivy. {token}")

    assert registry.verify(owner, prefix.id, page="https://folio.example/ivy/about").status == (
        "verified"
    )
    assert registry.get_claim(inside.id).status == "verified"  # under the proved prefix
    assert registry.get_claim(outside.id).status == "unverified"
    # a page proof proves no domain: a claim elsewhere on the host needs its own proof
    with pytest.raises(ClaimRejected, match="verified ownership"):
        registry.add_claim(owner, Selector("domain", "folio.example"), "allow")


def test_proved_account_is_honoured_by_a_default_filter(
    registry: RegistryService, site: Site, tmp_path: Path
) -> None:
    """The photographer's proof, then a builder's ``filter`` with defaults (no
    ``--include-unverified``): the account's photo pages and owner-column rows go."""
    claim_id, token, owner = _flickr(registry, "kit", "kit_shoots")
    rows = [
        ("https://www.flickr.com/photos/kit_shoots/1001/", "kit_shoots"),
        ("https://live.staticflickr.com/65535/1002_abcdef0123_b.jpg", "kit_shoots"),
        ("https://www.flickr.com/photos/someone/1003/", "someone"),
    ]
    src = tmp_path / "rows.csv"
    src.write_text("url,user_nsid\n" + "".join(f"{u},{o}\n" for u, o in rows))

    def kept_after_filter(name: str) -> list[str]:
        decider, registry_id = open_decider(registry.settings, None)
        summary = filter_inputs(src, tmp_path / name, decider, FilterOptions(registry_id))
        assert summary[0].result.unverified == (2 if name == "before.csv" else 0)
        return [line.split(",")[0] for line in (tmp_path / name).read_text().splitlines()]

    assert kept_after_filter("before.csv") == ["url", *(u for u, _ in rows)]
    site.profile("www.flickr.com", "/people/kit_shoots/", f"Street photos. {token}")
    registry.verify(owner, claim_id)
    assert kept_after_filter("after.csv") == ["url", rows[2][0]]
