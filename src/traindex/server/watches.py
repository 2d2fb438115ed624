"""The "My watches" pages: a signed-in owner's watches, what they found, and one click on.

Thin adapters over ``traindex.watch`` (the CLI's service). The owner comes from the signed
session (sign in with the registry token, as for claims). From the web an owner adds key
and caption watches (domain, URL prefix, Flickr account, words); image and face watches
are added with ``traindex watch add --owner NAME`` on the creator's own machine, because a
watch keeps the path of its photos and the server must not keep anybody's photos (the
safety rule of DESIGN.md). Every alert has its page: the row, a signed evidence report
and a request letter of exactly that row (the form carries the alert's row signed, as
after an image upload: ``server.signed_results``), and the opt-out claim of its URL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from traindex.bootstrap import Services
from traindex.errors import InputError, TraindexError
from traindex.server.rendering import SECURITY_HEADERS, Renderer
from traindex.server.sessions import SessionOwner, Sessions
from traindex.server.signed_results import SignedResults
from traindex.server.uploads import SearchForm, UploadLimits, read_search_form
from traindex.watch.model import KEY_KINDS, Alert, Contacts, Watch
from traindex.watch.notify import alert_links

__all__ = ["WEB_KINDS", "WatchPages", "alert_answer"]

WEB_KINDS: tuple[tuple[str, str], ...] = (
    ("domain", "A website domain (and its subdomains)"),
    ("url_prefix", "URLs starting with"),
    ("flickr_user", "A Flickr account"),
    ("text", "My name or words in captions"),
)
_FACES_OFF = (
    "face search is turned off on this server, so face-watch matches are not shown here; "
    "read them with `traindex watch alerts` where the watch runs"
)
_SHOWN_ALERTS = 500  # per watch on the page; `traindex watch alerts` lists every one


def alert_answer(watch: Watch, alert: Alert) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """The alert's row as a ``traindex search --json`` answer (what a report is built
    from), and the query file's digests for an image alert."""
    m = alert.match
    dataset = f"{m['dataset']}/{m['release']}"
    if watch.kind == "images":
        name = str(m.get("query", ""))
        query = {"kind": "image", "files": [name], "dataset": dataset}
        digests = {name: [m.get("query_sha256"), m.get("query_pdq")]}
        return {"query": query, "total": 1, "matches": [m]}, digests
    value = "the face in my photo" if watch.kind == "face" else watch.value
    query = {"kind": watch.kind, "value": value, "dataset": dataset}
    return {"query": query, "total": 1, "matches": [m]}, {}


class WatchPages:
    """Builds the "My watches" router for one app."""

    def __init__(self, services: Services, sessions: Sessions, renderer: Renderer) -> None:
        settings = services.settings
        self.settings = settings
        self.service = services.watches
        self.sessions = sessions
        self.render = renderer
        self.signed = SignedResults(settings)
        self.limits = UploadLimits.from_settings(settings)

    def _owned(self, owner: SessionOwner) -> list[Watch]:
        return [w for w in self.service.store.watches() if w.owner_id == owner.id]

    def _hidden(self, watch: Watch) -> bool:
        """Face matches are shown only where face search is on (off by default on a server,
        like ``POST /faces``); the owner still reads them with ``traindex watch alerts``."""
        return watch.kind == "face" and not self.settings.face_search_enabled

    def _signed_in(
        self, request: Request, build: Callable[[SessionOwner], dict[str, Any]], template: str
    ) -> Response:
        owner = self.sessions.load(request).owner
        if owner is None:
            return _redirect("/signin")
        try:
            return self.render.page(request, template, build(owner))
        except TraindexError as exc:
            return self.render.error(request, exc)

    def _page(self, owner: SessionOwner) -> dict[str, Any]:
        watches = self._owned(owner)
        ids = [w.id for w in watches]
        found = self.service.store.alerts(ids) if ids else []
        gaps = self.service.store.gaps(ids) if ids else []
        listed = [
            {
                "watch": w,
                "alerts": [a for a in found if a.watch_id == w.id][-_SHOWN_ALERTS:],
                "hidden": self._hidden(w),
                "total": sum(a.watch_id == w.id for a in found),
                "gaps": [g for g in gaps if g.watch_id == w.id],
            }
            for w in watches
        ]
        return {"listed": listed, "kinds": WEB_KINDS, "email": owner.email or "",
                "faces_off": _FACES_OFF}  # fmt: skip

    def page(self, request: Request) -> Response:
        return self._signed_in(request, self._page, "watches.html")

    def _add(self, owner: SessionOwner, form: SearchForm) -> None:
        kind = form.fields.get("kind", "")
        if kind not in KEY_KINDS:
            raise InputError(
                "from the web, watch a domain, URL prefix, Flickr account or words; image and "
                "face watches are added with `traindex watch add` on your own machine"
            )
        watch = self.service.add(
            kind,
            form.fields.get("value", ""),
            owner_id=owner.id,
            email=form.fields.get("email", "").strip() or None,
            webhook=form.fields.get("webhook", "").strip() or None,
        )
        self.service.run(watch_ids=[watch.id])  # what is already ingested, at once

    def _mine(self, owner: SessionOwner, form: SearchForm) -> Watch:
        watch = self.service.store.get(form.fields.get("watch", ""))
        if watch.owner_id != owner.id:
            raise InputError("that is not one of your watches")
        return watch

    def _remove(self, owner: SessionOwner, form: SearchForm) -> None:
        self.service.store.remove(self._mine(owner, form).id)

    def _edit(self, owner: SessionOwner, form: SearchForm) -> None:
        contacts = Contacts(
            email=form.fields.get("email", "").strip(),
            webhook=form.fields.get("webhook", "").strip(),
        )
        self.service.edit(self._mine(owner, form).id, contacts)

    async def _post(
        self, request: Request, act: Callable[[SessionOwner, SearchForm], None]
    ) -> Response:
        session = self.sessions.load(request)
        try:
            form = await read_search_form(request, self.limits)
            self.sessions.check_csrf(session, form.fields.get("csrf_token"))
            if session.owner is None:
                return _redirect("/signin")
            await run_in_threadpool(act, session.owner, form)
        except TraindexError as exc:
            context = self._page(session.owner) if session.owner else {}
            return self.render.error(request, exc, template="watches.html", **context)
        return _redirect("/watches")

    async def add(self, request: Request) -> Response:
        return await self._post(request, self._add)

    async def remove(self, request: Request) -> Response:
        return await self._post(request, self._remove)

    async def edit(self, request: Request) -> Response:
        return await self._post(request, self._edit)

    def _alert(self, owner: SessionOwner, alert_id: int) -> dict[str, Any]:
        alert = self.service.store.alert(alert_id)
        watch = next((w for w in self._owned(owner) if w.id == alert.watch_id), None)
        if watch is None:
            raise InputError(f"alert {alert_id} is not one of your watches'")
        if self._hidden(watch):
            raise InputError(_FACES_OFF)
        answer, digests = alert_answer(watch, alert)
        token = self.signed.dump_answer(answer, digests)
        links = alert_links("", alert)  # within this app, whatever its address
        return {"alert": alert, "watch": watch, "m": alert.match, "token": token, "links": links}

    def alert_page(self, request: Request, alert_id: int) -> Response:
        return self._signed_in(request, lambda o: self._alert(o, alert_id), "watch_alert.html")

    def router(self) -> APIRouter:
        api = APIRouter(include_in_schema=False)
        api.add_api_route("/watches", self.page, methods=["GET"])
        api.add_api_route("/watches", self.add, methods=["POST"])
        api.add_api_route("/watches/remove", self.remove, methods=["POST"])
        api.add_api_route("/watches/edit", self.edit, methods=["POST"])
        api.add_api_route("/watches/alerts/{alert_id}", self.alert_page, methods=["GET"])
        return api


def _redirect(to: str) -> Response:
    response = RedirectResponse(to, status_code=303)
    response.headers.update(SECURITY_HEADERS)
    return response
