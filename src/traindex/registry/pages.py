"""Proof of control of a platform account or a page: a one-time code on a public page.

Photographers publish on platforms (Flickr, portfolio hosts), not on a domain they
control, so the domain proofs of ``verify`` are out of their reach. What they *can* edit
is their own page there: a Flickr profile description, a photo's description, a page
under their portfolio's URL prefix. The owner puts the claim's code on such a page and
traindex fetches it and looks for the code.

The **scope** of a proof is what it covers: a Flickr account (``flickr:KEY``, the claim's
NSID or path alias) or a URL prefix (``prefix:URL``). A page belongs to the scope when
it is that account's profile or photo page (``flickr.com/people/KEY/...`` or
``/photos/KEY/...``) or a URL under the prefix. Checked twice: the page the owner names
(before anything is fetched), and the page the fetch ends on after redirects. A redirect
to another account's page proves nothing and is refused, naming where it went. One
exception: Flickr sends ``/people/NSID/`` to ``/people/ALIAS/`` when the account has an
alias; for an NSID claim that redirect is accepted when the alias page carries the
NSID (Flickr's pages embed it), because only Flickr sets that redirect.

The fetch is the signal checker's (``traindex.signals.fetch.Fetcher``): its address
policy on every hop (no private addresses, no IP literals unless allowed), its timeouts,
at most ``signals_max_redirects`` hops, and a body cut at ``registry_proof_max_bytes``:
the code is looked for in what was read, and a cut page says so. Like the domain proof,
``registry_verify_scheme``/``_port``/``_connect_host`` (operator settings; tests use
them to reach 127.0.0.1) rewrite where the request goes, not what is checked.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Literal

import httpx

from traindex.config import Settings
from traindex.core.flickr import flickr_owner
from traindex.core.urls import UrlError, url_parts
from traindex.registry.errors import ClaimRejected
from traindex.registry.models import Selector
from traindex.registry.selectors import flickr_key, url_key
from traindex.registry.verify import proof_fetcher
from traindex.signals.fetched import FetchResult

__all__ = ["PageOutcome", "PageProver", "Scope", "proof_scope"]

_FLICKR_PROFILE = "https://www.flickr.com/people/{}/"


@dataclass(frozen=True, slots=True)
class Scope:
    """What a page proof covers: a Flickr account (``value`` is its key) or a URL prefix
    (``value`` is the canonical prefix)."""

    kind: Literal["flickr", "prefix"]
    value: str

    @property
    def key(self) -> str:
        """How the scope is stored (``verifications.scope``)."""
        return f"{self.kind}:{self.value}"

    @classmethod
    def parse(cls, key: str) -> Scope:
        kind, _, value = key.partition(":")
        if kind not in ("flickr", "prefix"):
            raise ValueError(f"unknown proof scope {key[:40]!r}")
        return cls("flickr" if kind == "flickr" else "prefix", value)

    @property
    def default_page(self) -> str:
        """Where the code is looked for unless the owner names another page of the scope."""
        return _FLICKR_PROFILE.format(self.value) if self.kind == "flickr" else self.value

    def owns(self, page: str) -> bool:
        """True if ``page`` (any URL) is this account's page or lies under the prefix."""
        if self.kind == "flickr":
            owner = flickr_owner(page)
            return owner is not None and flickr_key(owner) == self.value
        try:
            canonical = url_parts(page).url
        except UrlError:
            return False
        return url_key(canonical).startswith(url_key(self.value))

    def covers(self, selector: Selector) -> bool:
        """True if a proof of this scope also proves a (normalised) claim's selector."""
        if self.kind == "flickr":
            return selector.kind == "flickr_owner" and selector.value == self.value
        return selector.kind in ("url", "url_prefix") and url_key(selector.value).startswith(
            url_key(self.value)
        )


def proof_scope(selector: Selector) -> Scope | None:
    """The page-proof scope of a normalised selector (None: no page proof)."""
    if selector.kind == "flickr_owner":
        return Scope("flickr", selector.value)
    if selector.kind == "url_prefix":
        return Scope("prefix", selector.value)
    return None


@dataclass(frozen=True, slots=True)
class PageOutcome:
    """``found`` when the code was on a page of the scope; ``reachable`` is False when no
    page could be read at all (refused, network, HTTP error): such claims go to review."""

    found: bool
    reachable: bool
    detail: str
    page: str


class PageProver:
    """Fetches a page of a scope and looks for a code; never raises for network trouble."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def check_page(self, scope: Scope, page: str | None) -> str:
        """The page to fetch (``page`` or the scope's default); ``ClaimRejected`` if the
        named page is not the scope's own (someone else's page proves nothing)."""
        chosen = (page or "").strip() or scope.default_page
        if not scope.owns(chosen):
            what = "account" if scope.kind == "flickr" else "prefix"
            raise ClaimRejected(
                f"{chosen[:200]!r} is not a page of the claimed {what} {scope.value!r}; "
                "put the code on your own page"
            )
        return chosen

    def prove(self, scope: Scope, page: str, token: str) -> PageOutcome:
        result = asyncio.run(self._fetch(page))
        final = self._logical(result.final_url, page)
        if result.error is not None:
            return PageOutcome(False, False, f"{page} could not be read: {result.error}", page)
        if result.status is None or not 200 <= result.status < 300:
            return PageOutcome(False, False, f"{final} answered HTTP {result.status}", page)
        text = result.body.decode("utf-8", "replace")
        if not scope.owns(final) and not _alias_of_nsid(scope, final, text):
            return PageOutcome(
                False, True, f"{page} redirected to {final}, which is not the claimed page", page
            )
        if token in text:
            return PageOutcome(True, True, f"code found at {final}", final)
        cut = (
            f" (page larger than {self.settings.registry_proof_max_bytes:,} bytes: only that "
            "much was read)"
            if result.truncated
            else ""
        )
        return PageOutcome(False, True, f"{final} does not show the code{cut}", page)

    async def _fetch(self, page: str) -> FetchResult:
        async with proof_fetcher(self.settings) as fetcher:
            return await fetcher.fetch(self._target(page), self.settings.registry_proof_max_bytes)

    def _target(self, page: str) -> str:
        """Where to send the request: the configured scheme and port, if any."""
        port = self.settings.registry_verify_port
        if port is None:
            return page
        scheme = self.settings.registry_verify_scheme
        return str(httpx.URL(page).copy_with(scheme=scheme, port=port))

    def _logical(self, fetched: str, page: str) -> str:
        """``fetched`` as the page's own scheme and port (undoing ``_target``)."""
        port = self.settings.registry_verify_port
        try:
            url = httpx.URL(fetched)
        except httpx.InvalidURL:
            return fetched
        if port is None or url.port != port:
            return fetched
        return str(url.copy_with(scheme=httpx.URL(page).scheme, port=None))


def _alias_of_nsid(scope: Scope, final: str, text: str) -> bool:
    """Flickr's NSID -> alias redirect: the alias page carries the claimed NSID."""
    if scope.kind != "flickr" or "@" not in scope.value:
        return False
    owner = flickr_owner(final)
    return owner is not None and "@" not in owner and scope.value in text
