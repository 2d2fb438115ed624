"""Search queries: what the user asked, one small type per kind of search.

``SearchService.search`` takes any ``SearchQuery``. A metadata ``Query`` (URL, domain,
Flickr, caption words, digest) is resolved here into a key lookup or a text query, once,
up front, so that every release is searched for the same canonical value and the JSON
answer can show what was actually looked up. The other kinds carry the files or codes
their search reads; this module imports nothing of the extras they need.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from traindex.core.flickr import flickr_owner, parse_flickr_url
from traindex.core.match_evidence import UrlForm
from traindex.core.matches import MatchMethod
from traindex.core.urls import UrlError, canonical_url, host_of, registrable_domain
from traindex.errors import InputError

if TYPE_CHECKING:
    from traindex.search.iscc import IsccQuery

__all__ = [
    "FaceQuery",
    "ImagePathsQuery",
    "ImageQuery",
    "IsccCodesQuery",
    "Query",
    "QueryKind",
    "Resolved",
    "SearchQuery",
    "SimilarQuery",
    "SimilarTextQuery",
    "resolve",
    "swap_scheme",
]

QueryKind = Literal[
    "url", "url_prefix", "domain", "flickr_photo", "flickr_user", "text", "sha256", "md5"
]
_DIGEST_BYTES = {"sha256": 32, "md5": 16}


@dataclass(frozen=True, slots=True)
class Query:
    """A metadata search: one URL, URL prefix, domain, Flickr photo/account, caption words
    or file digest."""

    kind: QueryKind
    value: str


@dataclass(frozen=True, slots=True)
class ImageQuery:
    """Image files already in memory (uploads): the same file or the same image."""

    files: Sequence[tuple[str, bytes]]


@dataclass(frozen=True, slots=True)
class ImagePathsQuery:
    """Image files on disk (one or a portfolio), read in bounded batches; ``on_progress``
    hears how many files each batch took."""

    paths: Sequence[Path]
    on_progress: Callable[[int], None] = field(default=lambda n: None, compare=False)


@dataclass(frozen=True, slots=True)
class FaceQuery:
    """The one face in a photo (``name`` names it in errors)."""

    data: bytes
    name: str | None = None


@dataclass(frozen=True, slots=True)
class SimilarQuery:
    """CLIP neighbours of image files."""

    files: Sequence[tuple[str, bytes]]


@dataclass(frozen=True, slots=True)
class SimilarTextQuery:
    """Images whose CLIP embedding is near a text's."""

    text: str


@dataclass(frozen=True, slots=True)
class IsccCodesQuery:
    """ISCC Image-Codes (given, or read from a declaration file); ``kind`` and ``value``
    describe the request in the JSON answer (``iscc`` codes or a ``declaration``)."""

    codes: Sequence[IsccQuery]
    kind: str
    value: str


SearchQuery = (
    Query
    | ImageQuery
    | ImagePathsQuery
    | FaceQuery
    | SimilarQuery
    | SimilarTextQuery
    | IsccCodesQuery
)


@dataclass(frozen=True, slots=True)
class Resolved:
    """A query in catalog terms.

    ``field``/``key`` name the key index to probe (``None`` for text); ``host`` restricts
    a domain lookup to one subdomain; ``prefix`` filters a URL-prefix lookup.

    ``other_scheme`` is the http form of an https URL or prefix, and the reverse: the same
    resource for whoever asks (the registry treats the two alike too), and datasets hold
    whichever form the crawler saw, so URL and prefix searches look up both.
    """

    query: Query
    method: MatchMethod
    field: str | None
    key: str | None
    host: str | None = None
    prefix: str | None = None
    other_scheme: str | None = None

    @property
    def url_keys(self) -> tuple[str, ...]:
        """The URL values an exact-URL row may hold: the query's form and the other one."""
        assert self.key is not None
        return (self.key,) if self.other_scheme is None else (self.key, self.other_scheme)

    def url_form(self, url: str) -> UrlForm | None:
        """``as_given`` or ``other_scheme``: which form of a URL query ``url`` matched."""
        if self.method == "exact_url":
            return "as_given" if url == self.key else "other_scheme"
        if self.method == "url_prefix" and self.prefix is not None:
            return "as_given" if url.startswith(self.prefix) else "other_scheme"
        return None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.query.kind, "value": self.query.value}
        if self.key is not None:
            data["normalised"] = self.prefix or self.host or self.key
        if self.other_scheme is not None:
            data["also_searched"] = self.other_scheme
        return data


def swap_scheme(url: str) -> str:
    """The same canonical URL under the other scheme (http <-> https), re-canonicalised so
    that a port that is the default of the new scheme is dropped."""
    scheme, rest = url.split("://", 1)
    return canonical_url(("https" if scheme == "http" else "http") + "://" + rest)


def _host(value: str) -> str:
    text = value.strip()
    url = text if "://" in text else f"http://{text}/"
    try:
        return host_of(canonical_url(url))
    except UrlError as exc:
        raise InputError(f"{value!r} is not a domain or URL: {exc}") from exc


def _domain(query: Query) -> Resolved:
    host = _host(query.value)
    domain = registrable_domain(host)
    if domain is None:
        raise InputError(f"{host!r} is a public suffix, not a registrable domain")
    return Resolved(query, "domain", "domain", domain, host=None if host == domain else host)


def _flickr_photo(query: Query) -> Resolved:
    value = query.value.strip()
    if value.isdigit():
        return Resolved(query, "flickr_photo", "flickr_photo_id", str(int(value)))
    ref = parse_flickr_url(value)
    if ref is None:
        raise InputError(f"{value!r} is neither a Flickr photo id nor a Flickr photo URL")
    return Resolved(query, "flickr_photo", "flickr_photo_id", str(ref.photo_id))


def _digest(query: Query) -> Resolved:
    size = _DIGEST_BYTES[query.kind]
    try:
        digest = bytes.fromhex(query.value.strip())
    except ValueError:
        digest = b""
    if len(digest) != size:
        raise InputError(f"{query.kind} must be {2 * size} hex digits, got {query.value!r}")
    return Resolved(query, "same_file", query.kind, digest.hex())


def resolve(query: Query) -> Resolved:
    """Canonicalise the query value; raise ``InputError`` saying why it cannot be searched."""
    value = query.value.strip()
    if not value:
        raise InputError(f"empty {query.kind} query")
    if query.kind == "text":
        return Resolved(query, "text", None, None)
    if query.kind == "domain":
        return _domain(query)
    if query.kind == "flickr_photo":
        return _flickr_photo(query)
    if query.kind in _DIGEST_BYTES:
        return _digest(query)
    if query.kind == "flickr_user":
        owner = flickr_owner(value, bare_alias=True)
        if owner is None:
            raise InputError(f"{value!r} is not a Flickr account (NSID, alias or profile URL)")
        return Resolved(query, "flickr_user", "flickr_owner", owner)
    try:
        url = canonical_url(value)
    except UrlError as exc:
        raise InputError(f"cannot search URL {value!r}: {exc}") from exc
    other = swap_scheme(url)
    if query.kind == "url":
        return Resolved(query, "exact_url", "url", url, other_scheme=other)
    domain = registrable_domain(host_of(url)) or host_of(url)
    return Resolved(query, "url_prefix", "domain", domain, prefix=url, other_scheme=other)
