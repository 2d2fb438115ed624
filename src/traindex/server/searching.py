"""What a web request asks to search, run with the same services as ``traindex search``.

Pages and ``POST /api/search`` both land here, so the browser, the JSON API and the CLI
answer a query identically (``SearchResult`` / ``ImageSearchResult``, whose ``to_json``
is the ``traindex search --json`` contract). One ``WebSearch`` lives as long as the app:
its ``ViewCache`` keeps each release's readers open between requests. Every kind of
query goes through the thread's ``SearchService.search`` (``bootstrap.Services``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import get_args

from traindex.bootstrap import Services
from traindex.config import Settings
from traindex.core.flickr import flickr_owner, parse_flickr_url
from traindex.core.matches import SearchResult
from traindex.core.urls import UrlError, canonical_url, host_of, registrable_domain
from traindex.errors import InputError
from traindex.search.candidates import CandidateSource, ClipCandidates, MetadataCandidates
from traindex.search.image_results import ImageSearchResult, QueryImage
from traindex.search.iscc import code_queries
from traindex.search.queries import ImageQuery, IsccCodesQuery, Query, QueryKind
from traindex.search.service import SearchService
from traindex.search.verify import CandidateVerifier
from traindex.server.uploads import SearchForm

__all__ = ["QUERY_FIELDS", "WebSearch", "guess_kind", "query_from_fields"]

QUERY_FIELDS: tuple[QueryKind, ...] = get_args(QueryKind)
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_HEX32 = re.compile(r"[0-9a-fA-F]{32}")
MAX_LIMIT = 500


def _looks_like_domain(value: str) -> bool:
    if " " in value or "/" in value or "." not in value:
        return False
    try:
        return registrable_domain(host_of(canonical_url(f"http://{value}/"))) is not None
    except UrlError:
        return False


def guess_kind(value: str) -> QueryKind:
    """What one value typed into the single search box most likely is.

    Digests by their length, Flickr photo and account pages by their URL, other URLs as
    exact URLs, a bare ``example.com`` as a domain; anything else is caption words.
    """
    text = value.strip()
    if _HEX64.fullmatch(text):
        return "sha256"
    if _HEX32.fullmatch(text):
        return "md5"
    if "://" in text or text.lower().startswith("www."):
        if parse_flickr_url(text) is not None:
            return "flickr_photo"
        if flickr_owner(text) is not None:
            return "flickr_user"
        return "url"
    return "domain" if _looks_like_domain(text) else "text"


def query_from_fields(fields: Mapping[str, str]) -> Query | None:
    """The one query named by ``fields`` (``url``, ``domain``, ``text``, ...; or ``q`` with
    ``kind``, ``auto`` guessing), ``None`` if none; ``InputError`` if several or unknown."""
    given = [(kind, fields[kind]) for kind in QUERY_FIELDS if fields.get(kind, "").strip()]
    box = fields.get("q", "").strip()
    if box:
        kind = fields.get("kind", "auto") or "auto"
        if kind == "auto":
            given.append((guess_kind(box), box))
        elif kind in QUERY_FIELDS:
            given.append((kind, box))
        else:
            raise InputError(f"unknown search kind {kind!r}; use one of auto, {QUERY_FIELDS}")
    if len(given) > 1:
        names = ", ".join(kind for kind, _ in given)
        raise InputError(f"give one thing to search at a time, not {names}")
    return Query(given[0][0], given[0][1]) if given else None


def _int(fields: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = fields.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise InputError(f"{name} must be a whole number from {low} to {high}, got {raw!r}")
    return int(raw)


@dataclass
class WebSearch:
    """A web request's search, through the calling thread's search entry (image search
    fanned out over a Ray cluster when ``search_ray_address`` is set:
    ``search.fanout.search_views``)."""

    settings: Settings
    service: SearchService

    @classmethod
    def open(cls, services: Services) -> WebSearch:
        return cls(services.settings, services.search)

    def dataset(self, fields: Mapping[str, str]) -> str | None:
        """The ``dataset`` field (``all`` or empty means every release)."""
        value = fields.get("dataset", "").strip()
        return None if value in ("", "all") else value

    def page_size(self, fields: Mapping[str, str]) -> int:
        return _int(fields, "limit", self.settings.web_page_size, 1, MAX_LIMIT)

    def by_query(self, query: Query, fields: Mapping[str, str]) -> SearchResult:
        """One page of a URL/domain/Flickr/caption/digest search."""
        offset = _int(fields, "offset", 0, 0, 10_000_000)
        return self.service.search(
            query, dataset=self.dataset(fields), limit=self.page_size(fields), offset=offset
        )

    def by_images(self, form: SearchForm) -> ImageSearchResult:
        """Search the uploaded files; files refused by the upload limits are listed as errors."""
        result = self.service.search(
            ImageQuery(form.files), dataset=self.dataset(form.fields),
            limit=self.page_size(form.fields),
        )  # fmt: skip
        result.queries.extend(QueryImage(name, "", error=why) for name, why in form.rejected)
        return result

    def verify(self, form: SearchForm) -> ImageSearchResult:
        """The results page's candidate check: download the rows of one release that the
        form's query picks (a domain, URL prefix, Flickr account or caption words) or, with
        ``candidates=clip``, each file's nearest rows by the release's published CLIP
        embeddings (at most ``web_verify_candidates`` in all), and keep those the uploaded
        files' pixels prove."""
        by_clip = form.fields.get("candidates") == "clip"
        query = None if by_clip else query_from_fields(form.fields)
        if query is None and not by_clip:
            raise InputError(
                "to check candidates, give your site's domain, a URL prefix, your Flickr "
                "account or your name: they pick the rows whose images are downloaded"
            )
        if not form.files:
            raise InputError("choose the images to check against the downloaded rows")
        source = (
            self._clip_candidates() if query is None else MetadataCandidates(query, self.service)
        )
        cap = self.settings.web_verify_candidates
        verifier = CandidateVerifier(self.settings, max_candidates=cap, search=self.service.images)
        result = verifier.verify(form.files, source, dataset=self.dataset(form.fields))
        result.queries.extend(QueryImage(name, "", error=why) for name, why in form.rejected)
        return result

    def _clip_candidates(self) -> CandidateSource:
        """Nearest rows by CLIP, with the weights the server's operator configured (the
        thread's search entry keeps each release's embedding index between requests)."""
        if self.settings.clip_model_dir is None:
            raise InputError(
                "picking candidates by CLIP needs CLIP weights, and this server has none "
                "configured (TRAINDEX_CLIP_MODEL_DIR: a folder with your own CLIP export; "
                "traindex never downloads weights). Pick the rows by your domain, a URL "
                "prefix, your Flickr account or your name instead."
            )
        try:
            similar = self.service.similar
        except ModuleNotFoundError as exc:
            raise InputError(
                f"picking candidates by CLIP needs the clip extra ({exc.name} is not "
                "installed on this server): pip install 'traindex[clip]'"
            ) from None
        return ClipCandidates(similar, self.settings.web_verify_clip_per_image)

    def by_iscc(self, form: SearchForm) -> SearchResult:
        """Rows whose image's ISCC Image-Code is within the ISCC radius of the form's ``iscc``
        (the JSON API's; the results page has no ISCC view: its answers carry coverage)."""
        fields = form.fields
        if query_from_fields(fields) is not None or form.files or form.rejected:
            raise InputError("search by an ISCC code or by one other field, not both")
        code = fields["iscc"].strip()
        offset = _int(fields, "offset", 0, 0, 10_000_000)
        return self.service.search(
            IsccCodesQuery(code_queries([code]), "iscc", code),
            dataset=self.dataset(fields), limit=self.page_size(fields), offset=offset,
        )  # fmt: skip

    def run(self, form: SearchForm) -> SearchResult | ImageSearchResult:
        """Images if any were sent, else the one query field; ``InputError`` if neither."""
        query = query_from_fields(form.fields)
        if form.files or form.rejected:
            if query is not None:
                raise InputError("search by image files or by one field, not both at once")
            return self.by_images(form)
        if query is None:
            raise InputError(
                "nothing to search: send image files, or one of " + ", ".join(QUERY_FIELDS)
            )
        return self.by_query(query, form.fields)
