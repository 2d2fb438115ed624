"""The opt-out pages: sign up, sign in with the API token, claim, verify, "My claims".

Thin adapters over ``traindex.registry.service.RegistryService`` (the same service the
registry API and CLI use). Signing up shows the owner's API token once (the registry
stores only its hash); signing in with it puts the owner in the signed session cookie.
Every POST checks the session's CSRF token before anything else happens, and every
blocking registry call (database, the verification fetch) runs in the thread pool.

Claims come from a results page (the selected URLs, or the searched domain), from a row's
page, from the claim form (a URL, prefix, domain, Flickr account, or image files, whose
SHA-256/MD5/PDQ/ISCC are registered; the files themselves are not kept), or from an uploaded
TDM·AI declaration file ("My claims"), which files ISCC-bound image claims; the same page
exports the owner's ISCC claims as declarations (``registry.declarations``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Literal, cast

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from traindex.config import Settings
from traindex.errors import InputError, TraindexError
from traindex.fingerprint.iscc import iscc_from_body
from traindex.registry.declarations import export_declarations, parse_declarations
from traindex.registry.errors import AuthError, ClaimRejected
from traindex.registry.models import Claim, Owner, Selector, VerificationInstructions
from traindex.registry.service import RegistryService
from traindex.server.rendering import SECURITY_HEADERS, Renderer
from traindex.server.sessions import Session, SessionOwner, Sessions
from traindex.server.uploads import SearchForm, UploadLimits, read_search_form

__all__ = ["CLAIM_KINDS", "OptOutPages"]

CLAIM_KINDS: tuple[tuple[str, str], ...] = (
    ("url", "One image URL"),
    ("url_prefix", "Every URL starting with"),
    ("domain", "A whole domain (and its subdomains)"),
    ("flickr_owner", "A Flickr account"),
    ("image", "Image files (by their fingerprints)"),
)
_KIND_NAMES = {kind for kind, _ in CLAIM_KINDS}
_DONE = {
    "verify": "Verified: this claim now counts for every dataset builder who checks the registry.",
    "revoke": "Revoked: this claim no longer counts (it stays listed for the record).",
}


def _selectors(form: SearchForm) -> list[Selector]:
    """The selectors a claim form asks for: image files, or one or more typed values."""
    if form.rejected:
        name, why = form.rejected[0]
        raise InputError(f"{name}: {why}")
    if form.files:
        return [Selector.for_image(data, name=name) for name, data in form.files]
    kind = form.fields.get("kind", "")
    if kind == "image":
        raise ClaimRejected("choose one or more image files to claim")
    if kind not in _KIND_NAMES:
        raise ClaimRejected(f"choose what to claim ({', '.join(sorted(_KIND_NAMES))})")
    values = [v.strip() for k, v in form.pairs if k in ("value", "url") and v.strip()]
    if not values:
        raise ClaimRejected("nothing selected: give a value, or tick results to opt out")
    subdomains = form.fields.get("include_subdomains") == "on"  # an unticked box sends nothing
    typed = cast(Literal["url", "url_prefix", "domain", "flickr_owner"], kind)
    return [Selector(typed, value, include_subdomains=subdomains) for value in values]


class OptOutPages:
    """Builds the opt-out router for one app; the registry opens on first use."""

    def __init__(self, settings: Settings, sessions: Sessions, renderer: Renderer) -> None:
        self.settings = settings
        self.sessions = sessions
        self.render = renderer
        self.limits = UploadLimits.from_settings(settings)
        self._registry: RegistryService | None = None
        self._lock = threading.Lock()

    @property
    def registry(self) -> RegistryService:
        with self._lock:
            if self._registry is None:
                self._registry = RegistryService.open(self.settings)
            return self._registry

    def owner(self, session: Session) -> Owner:
        if session.owner is None:
            raise AuthError("sign in first (with the API token you got when signing up)")
        return self.registry.owner_by_id(session.owner.id)

    def redirect(self, to: str, session: Session | None = None) -> Response:
        response = RedirectResponse(to, status_code=303)
        if session is not None:
            self.sessions.save(response, session)
        response.headers.update(SECURITY_HEADERS)
        return response

    async def _form(self, request: Request) -> tuple[Session, SearchForm]:
        """The posted form after the CSRF check (``CsrfError`` if it fails)."""
        session = self.sessions.load(request)
        form = await read_search_form(request, self.limits)
        self.sessions.check_csrf(session, form.fields.get("csrf_token"))
        return session, form

    # accounts -----------------------------------------------------------------------------

    def signup_page(self, request: Request) -> Response:
        return self.render.page(request, "signup.html", {})

    async def signup(self, request: Request) -> Response:
        try:
            _, form = await self._form(request)
            email = form.fields.get("email", "").strip() or None
            owner, token = await run_in_threadpool(
                self.registry.register_owner, form.fields.get("name", ""), email
            )
        except TraindexError as exc:
            return self.render.error(request, exc, template="signup.html")
        session = Sessions.sign_in(
            SessionOwner(owner.id, owner.name, owner.email, owner.created_at)
        )
        context = {"owner": owner, "token": token}
        return self.render.page(request, "token.html", context, status=201, session=session)

    def signin_page(self, request: Request) -> Response:
        return self.render.page(request, "signin.html", {})

    async def signin(self, request: Request) -> Response:
        try:
            _, form = await self._form(request)
            owner = await run_in_threadpool(
                self.registry.authenticate, form.fields.get("token", "").strip()
            )
        except TraindexError as exc:
            return self.render.error(request, exc, template="signin.html")
        who = SessionOwner(owner.id, owner.name, owner.email, owner.created_at)
        return self.redirect("/claims", Sessions.sign_in(who))

    async def signout(self, request: Request) -> Response:
        try:
            await self._form(request)
        except TraindexError as exc:
            return self.render.error(request, exc)
        return self.redirect("/", Sessions.sign_out())

    # claims -------------------------------------------------------------------------------

    def _signed_in(self, request: Request, build: Callable[[Owner], Response]) -> Response:
        try:
            owner = self.owner(self.sessions.load(request))
        except AuthError:
            return self.redirect("/signin")
        try:
            return build(owner)
        except TraindexError as exc:
            return self.render.error(request, exc)

    def claims_page(self, request: Request) -> Response:
        def build(owner: Owner) -> Response:
            claims = self.registry.list_claims(owner, include_revoked=True)
            return self.render.page(request, "claims.html", {"claims": claims})

        return self._signed_in(request, build)

    def _import(self, session: Session, form: SearchForm) -> tuple[Owner, list[Claim]]:
        owner = self.owner(session)
        if form.rejected:
            name, why = form.rejected[0]
            raise InputError(f"{name}: {why}")
        if not form.files:
            raise InputError("choose a declaration file (JSON) to import")
        name, data = form.files[0]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"{name}: not UTF-8 text ({exc})") from None
        return owner, self.registry.add_claims(owner, parse_declarations(text, source=name))

    async def import_declarations(self, request: Request) -> Response:
        """File an uploaded TDM·AI declaration file's declarations as image claims."""
        try:
            session, form = await self._form(request)
            owner, claims = await run_in_threadpool(self._import, session, form)
        except TraindexError as exc:
            try:
                mine = self.owner(self.sessions.load(request))
            except AuthError:
                return self.redirect("/signin")
            listed = await run_in_threadpool(self.registry.list_claims, mine, include_revoked=True)
            return self.render.error(request, exc, template="claims.html", claims=listed)
        listed = await run_in_threadpool(self.registry.list_claims, owner, include_revoked=True)
        done = f"Imported {len(claims)} declaration(s) as do-not-train image claims (by ISCC)."
        return self.render.page(request, "claims.html", {"claims": listed, "done": done})

    def export_declarations(self, request: Request) -> Response:
        """The signed-in owner's ISCC claims as a TDM·AI declaration file (a JSON array)."""

        def build(owner: Owner) -> Response:
            declarations = export_declarations(self.registry.list_claims(owner))
            disposition = 'attachment; filename="traindex-declarations.json"'
            headers = {**SECURITY_HEADERS, "Content-Disposition": disposition}
            return JSONResponse(declarations, headers=headers)

        return self._signed_in(request, build)

    def new_claim_page(self, request: Request, kind: str = "url", value: str = "") -> Response:
        context = {"kinds": CLAIM_KINDS, "kind": kind, "value": value, "limits": self.limits}
        return self._signed_in(
            request, lambda owner: self.render.page(request, "claim_new.html", context)
        )

    def _add(self, session: Session, form: SearchForm) -> list[Claim]:
        owner = self.owner(session)
        return [self.registry.add_claim(owner, s) for s in _selectors(form)]

    async def new_claim(self, request: Request) -> Response:
        fields: dict[str, str] = {}
        try:
            session, form = await self._form(request)
            fields = form.fields
            claims = await run_in_threadpool(self._add, session, form)
        except TraindexError as exc:
            context: dict[str, Any] = {"kinds": CLAIM_KINDS, "limits": self.limits, **fields}
            return self.render.error(request, exc, template="claim_new.html", **context)
        return self.redirect(f"/claims/{claims[0].id}" if len(claims) == 1 else "/claims")

    def _instructions(self, owner: Owner, claim: Claim) -> VerificationInstructions | None:
        if claim.status != "unverified" or claim.selector.kind == "image":
            return None
        try:
            return self.registry.verification_instructions(owner, claim.id)
        except ClaimRejected:
            return None  # Flickr accounts have no web or DNS proof

    def _claim_context(self, owner: Owner, claim_id: str) -> dict[str, Any]:
        claim = next((c for c in self.registry.list_claims(owner, include_revoked=True)
                      if c.id == claim_id), None)  # fmt: skip
        if claim is None:
            raise AuthError(f"you have no claim {claim_id[:40]!r}")
        iscc = claim.selector.iscc
        return {
            "claim": claim,
            "instructions": self._instructions(owner, claim),
            "iscc": None if iscc is None else iscc_from_body(iscc),
        }

    def claim_page(self, request: Request, claim_id: str) -> Response:
        def build(owner: Owner) -> Response:
            context = self._claim_context(owner, claim_id)
            return self.render.page(request, "claim.html", context)

        return self._signed_in(request, build)

    def _act(self, session: Session, claim_id: str, action: str) -> dict[str, Any]:
        owner = self.owner(session)
        if action == "verify":
            self.registry.verify(owner, claim_id)
        else:
            self.registry.revoke_claim(owner, claim_id)
        return self._claim_context(owner, claim_id)

    async def claim_action(self, request: Request, claim_id: str, action: str) -> Response:
        if action not in _DONE:
            return Response(status_code=404)
        try:
            session, _ = await self._form(request)
            context = await run_in_threadpool(self._act, session, claim_id, action)
        except TraindexError as exc:
            signed = self.sessions.load(request)
            try:
                context = await run_in_threadpool(self._claim_context, self.owner(signed), claim_id)
            except TraindexError:
                return self.render.error(request, exc)
            return self.render.error(request, exc, template="claim.html", **context)
        done = _DONE[action]
        return self.render.page(request, "claim.html", {**context, "done": done})

    def router(self) -> APIRouter:
        api = APIRouter(include_in_schema=False)
        for path, get, post in (
            ("/signup", self.signup_page, self.signup),
            ("/signin", self.signin_page, self.signin),
            ("/claims/new", self.new_claim_page, self.new_claim),
        ):
            api.add_api_route(path, get, methods=["GET"])
            api.add_api_route(path, post, methods=["POST"])
        api.add_api_route("/signout", self.signout, methods=["POST"])
        api.add_api_route("/claims", self.claims_page, methods=["GET"])
        # before /claims/{claim_id}, which would otherwise take these paths
        api.add_api_route("/claims/declarations", self.import_declarations, methods=["POST"])
        api.add_api_route("/claims/declarations.json", self.export_declarations, methods=["GET"])
        api.add_api_route("/claims/{claim_id}", self.claim_page, methods=["GET"])
        api.add_api_route("/claims/{claim_id}/{action}", self.claim_action, methods=["POST"])
        return api
