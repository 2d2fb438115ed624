"""The HTML pages: search, results, row detail, datasets, thumbnails and static files.

Thin adapters: each handler reads the request, calls ``WebSearch``/``Rows``/``summarise``
(the same services as the CLI) and renders a template. Text, URL, domain and Flickr
searches are plain GET forms, so they work without JavaScript and can be bookmarked;
image uploads are a POST form (JavaScript only adds drag-and-drop and upload progress).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

from traindex.bootstrap import Services
from traindex.catalog.store import Catalog
from traindex.catalog.text import asks_any, query_terms
from traindex.config import Settings
from traindex.core.coverage import Coverage, cover_command
from traindex.core.matches import SearchResult
from traindex.errors import TraindexError
from traindex.search.image_results import ImageSearchResult
from traindex.server.context import PerThread, WebContext
from traindex.server.limits import ClientLimit
from traindex.server.overview import summarise
from traindex.server.present import build_groups, pages
from traindex.server.rendering import Renderer
from traindex.server.rowfields import row_fields
from traindex.server.rows import RowRef
from traindex.server.sessions import Sessions
from traindex.server.signed_results import SignedResults
from traindex.server.uploads import SearchForm, UploadLimits, read_search_form
from traindex.signals.service import resolve_agents, run_checks
from traindex.signals.verdict import TargetVerdict

__all__ = ["KINDS", "WebPages", "form_context"]

KINDS: tuple[tuple[str, str], ...] = (
    ("auto", "Anything (guess from what I type)"),
    ("text", "Words or a name in captions"),
    ("domain", "A website domain"),
    ("url", "An image URL"),
    ("url_prefix", "URLs starting with"),
    ("flickr_user", "A Flickr account"),
    ("flickr_photo", "A Flickr photo"),
)
STATIC = Path(__file__).resolve().parent / "static"
_STATIC_TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}


def _image_summary(result: ImageSearchResult) -> list[dict[str, Any]]:
    """Per query file: how many rows it matched, why it could not be searched, or what the
    coverage lets it claim (``not found`` only when every row was compared)."""
    counts: dict[str, int] = {}
    for match in result.matches:
        counts[match.query] = counts.get(match.query, 0) + 1
    outcomes = result.outcomes()
    return [
        {
            "name": q.name,
            "error": q.error,
            "found": counts.get(q.name, 0),
            "outcome": outcomes[q.name],
        }
        for q in result.queries
    ]


def coverage_rows(coverage: Coverage | None) -> list[dict[str, str]]:
    """Per release: its coverage in words and, when rows are left, the command to cover them
    (``lost``: index shards a fanned-out search did not reach, placed again to cover)."""
    if coverage is None:
        return []
    return [
        {
            "name": r.name,
            "state": r.state(coverage.signals),
            "summary": r.describe(coverage.signals),
            "command": cover_command(r, coverage.signals)
            if r.state(coverage.signals) != "searched"
            else "",
            "lost": ", ".join(r.index_shards_lost),
        }
        for r in coverage.releases
    ]


def form_context(catalog: Catalog, fields: Mapping[str, str]) -> dict[str, Any]:
    """What the search forms need: kinds, releases, the current values, the upload limits."""
    names = [(m.name, m.release) for _, m in catalog.releases()]
    releases: list[tuple[str, str]] = []
    for name in dict.fromkeys(n for n, _ in names):
        own = [f"{name}/{release}" for n, release in names if n == name]
        if len(own) > 1:  # a dataset with several releases: offer all of them at once
            releases.append((name, f"{name} (all {len(own)} releases)"))
        releases.extend((value, value) for value in own)
    return {
        "kinds": KINDS,
        "releases": releases,
        "fields": dict(fields),
        "limits": UploadLimits.from_settings(catalog.settings),
    }


class WebPages:
    """Builds the page router for one app."""

    def __init__(self, services: Services, sessions: Sessions, renderer: Renderer) -> None:
        settings = services.settings
        self.settings = settings
        self.catalog = services.catalog
        self.services = PerThread(services)
        self.sessions = sessions
        self.render = renderer
        self.limits = UploadLimits.from_settings(settings)
        self.signed_results = SignedResults(settings)
        self.search_rate = ClientLimit(settings, "image search")
        self.signal_rate = ClientLimit(settings, "signal check")

    def form_context(self, fields: Mapping[str, str]) -> dict[str, Any]:
        return form_context(self.catalog, fields)

    def results_context(
        self, ctx: WebContext, result: SearchResult | ImageSearchResult, fields: Mapping[str, str]
    ) -> dict[str, Any]:
        groups = build_groups(result.matches, ctx.view_of, ctx.thumbnails)
        context = {**self.form_context(fields), "groups": groups, "result": result}
        if isinstance(result, ImageSearchResult):
            token = self.signed_results.dump(result)
            return {
                **context,
                "mode": "images",
                "files": _image_summary(result),
                "evidence_token": token,
                "coverage": coverage_rows(result.coverage),
                "coverage_state": result.coverage.state if result.coverage else "not searched",
                "verify_cap": self.settings.web_verify_candidates,
                "verify_clip": self.settings.clip_model_dir is not None,
            }
        q = result.query
        size, offset = int(q["limit"]), int(q["offset"])
        keep = {k: v for k, v in fields.items() if k in ("q", "kind", "dataset") and v}
        return {
            **context,
            "mode": "query",
            "query": q,
            "first": offset + 1,
            "last": offset + len(result.matches),
            "pages": pages(result.total, offset, size) if result.total > size else [],
            "page_link": "/search?" + urlencode(keep) + "&offset=",
            "past_end": offset > 0 and offset >= result.total,
            "last_page_offset": max(0, (result.total - 1) // size * size),
            "prev_offset": offset - size if offset > 0 else None,
            "next_offset": offset + size if offset + size < result.total else None,
            "words": query_terms(str(q["value"])),
            "any_words": asks_any(str(q["value"])),
            "coverage": coverage_rows(result.coverage),
        }

    def search_get(self, request: Request) -> HTMLResponse:
        fields = dict(request.query_params)
        ctx = self.services.get()
        try:
            if not fields.get("q", "").strip():
                return self.render.page(request, "search.html", self.form_context(fields))
            result = ctx.search.run(SearchForm(fields=fields))
            return self.render.page(
                request, "results.html", self.results_context(ctx, result, fields)
            )
        except TraindexError as exc:
            return self.render.error(
                request, exc, template="search.html", **self.form_context(fields)
            )

    def _upload_results(self, form: SearchForm) -> dict[str, Any]:
        ctx = self.services.get()
        if form.fields.get("verify_candidates"):  # the results page's "check candidates"
            result: SearchResult | ImageSearchResult = ctx.search.verify(form)
        else:
            result = ctx.search.run(form)
        return self.results_context(ctx, result, form.fields)

    async def search_post(self, request: Request) -> HTMLResponse:
        fields: dict[str, str] = {}
        try:
            self.search_rate.admit(request)
            form = await read_search_form(request, self.limits)
            fields = form.fields
            self.sessions.check_csrf(self.sessions.load(request), fields.get("csrf_token"))
            context = await run_in_threadpool(self._upload_results, form)
        except TraindexError as exc:
            context = {**self.form_context(fields), "upload_error": True}
            return self.render.error(request, exc, template="search.html", **context)
        return self.render.page(request, "results.html", context)

    def row(
        self,
        request: Request,
        dataset: str,
        release: str,
        shard: str,
        row: int,
        signals: bool = False,
    ) -> Response:
        ctx = self.services.get()
        try:
            if signals:
                self.signal_rate.admit(request)
            detail = ctx.rows.detail(RowRef(dataset, release, shard, row))
        except TraindexError as exc:
            return self.render.error(request, exc)
        thumb = None
        if detail.image is not None:
            thumb = f"/thumbs/{dataset}/{release}/{detail.shard_id}/{row}.jpg"
        groups = build_groups(detail.elsewhere, ctx.view_of, ctx.thumbnails, uploads=False)
        url = detail.record.get("url")
        # Checked only on request: it fetches the row's URL and its site files (robots.txt,
        # ai.txt, tdmrep.json) under the signal fetcher's address policy.
        verdict = row_signals(self.settings, url) if signals and isinstance(url, str) else None
        fields = row_fields(detail.record)
        context: dict[str, Any] = {"detail": detail, "thumb_url": thumb, "groups": groups}
        context.update(verdict=verdict, fields=fields)
        return self.render.page(request, "row.html", context)

    def datasets(self, request: Request) -> HTMLResponse:
        summaries = summarise(self.catalog)
        return self.render.page(request, "datasets.html", {"summaries": summaries})

    def thumb(self, dataset: str, release: str, shard_id: int, name: str) -> Response:
        stem, _, suffix = name.partition(".")
        ctx = self.services.get()
        view = ctx.view_of(dataset, release)
        if suffix != "jpg" or not stem.isdigit() or view is None:
            return Response(status_code=404)
        image = ctx.thumbnails.showable(view, shard_id, int(stem))
        data = ctx.thumbnails.render(image) if image is not None else None
        if data is None:
            return Response(status_code=404)
        headers = {"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"}
        return Response(data, media_type="image/jpeg", headers=headers)

    def router(self) -> APIRouter:
        api = APIRouter(include_in_schema=False)
        api.add_api_route("/", self.search_get, methods=["GET"], response_class=HTMLResponse)
        api.add_api_route("/search", self.search_get, methods=["GET"])
        api.add_api_route("/search", self.search_post, methods=["POST"])
        api.add_api_route("/rows/{dataset}/{release}", self.row, methods=["GET"])
        api.add_api_route("/datasets", self.datasets, methods=["GET"])
        api.add_api_route("/thumbs/{dataset}/{release}/{shard_id}/{name}", self.thumb)
        api.add_api_route("/static/{name}", static_file, methods=["GET"])
        return api


def row_signals(settings: Settings, url: str) -> TargetVerdict:
    """The combined opt-out signal verdict for one row's URL (``traindex check URL``)."""
    return run_checks([url], settings, resolve_agents(()))[0]


def static_file(name: str) -> Response:
    """A file of ``web/static`` (a fixed set: no path from the request reaches the disk)."""
    files = {p.name: p for p in STATIC.iterdir() if p.suffix in _STATIC_TYPES}
    path = files.get(name)
    if path is None:
        return Response(status_code=404)
    return FileResponse(
        path, media_type=_STATIC_TYPES[path.suffix], headers={"Cache-Control": "max-age=300"}
    )
