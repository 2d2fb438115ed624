"""Flickr photo ids and owners read from the URLs datasets carry.

A Flickr photo appears in datasets under many spellings: static image URLs from four
generations of hosts (see docs §A.12), photo pages, ``flic.kr`` short links. All of them
name the same numeric **photo id**, so the photo id, not the URL, is the key that lets a
photographer find every copy of one photo across LAION, CC3M, YFCC100M and face sets.

Static URLs never name the owner; pages and profiles do, either as an NSID
(``12345678@N00``) or as a path alias chosen by the user. ``flickr_owner`` returns what
the URL says and does not resolve aliases to NSIDs (that needs the Flickr API).

Both parsers take arbitrary strings from dataset columns and return None for anything
that is not a Flickr URL; they never raise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from traindex.core.urls import UrlError, canonical_url

__all__ = ["FlickrRef", "flickr_owner", "parse_flickr_url"]

_STATIC_HOST = re.compile(r"(?:farm(\d+)\.|c\d+\.|live\.)?static\.?flickr\.com")
_STATIC_PATH = re.compile(
    r"/(?:(\d+)/)?(\d+)/(\d+)_([0-9a-f]+)(?:_([a-z0-9]+))?\.(?i:jpe?g|png|gif)"
)
_PAGE_HOST = re.compile(r"(?:www\.|m\.|secure\.)?flickr\.com")
_PAGE_PATH = re.compile(r"/photos/([^/]+)/(\d+)(?:/.*)?")
_OWNER_PATH = re.compile(r"/(?:photos|people)/([^/]+)(?:/.*)?")
_GNE_QUERY = re.compile(r"(?:.*&)?id=(\d+)(?:&.*)?")
_PHOTON_HOST = re.compile(r"i[0-3]\.wp\.com")
_SHORT_PATH = re.compile(r"/p/([1-9a-km-zA-HJ-NP-Z]{1,12})/?")
_NSID = re.compile(r"([0-9]+)@[Nn]([0-9]{2})")
_ALIAS = re.compile(r"[A-Za-z0-9_\-.]+")
# First path segments under /photos/ that are Flickr's own pages, not user names.
_NOT_OWNERS = frozenset({"tags", "me", "upload", "organize", "friends", "search"})
# Flickr's base58: digits and letters without 0, O, I, l; lower case sorts first.
_BASE58 = "123456789abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
_BASE58_VALUE = {char: index for index, char in enumerate(_BASE58)}
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")


@dataclass(frozen=True, slots=True)
class FlickrRef:
    """What one Flickr URL says about a photo.

    ``photo_id`` is always known. ``server``, ``secret`` and ``farm`` come only from static
    URLs (enough to build other sizes of the same photo); ``size`` is the size suffix
    (``z``, ``b``, ``o`` ...) or None for the default 500 px image. For originals
    (``size == "o"``) ``secret`` is the separate original secret.
    """

    photo_id: int
    server: str | None
    secret: str | None
    size: str | None
    farm: int | None


def parse_flickr_url(url: str) -> FlickrRef | None:
    """Read the photo id (and, for static URLs, server/secret/size/farm) from a Flickr URL.

    Accepts static image URLs (also behind WordPress's ``i0.wp.com`` proxy),
    ``www.flickr.com/photos/{owner}/{id}`` pages, ``photo.gne?id=`` and ``flic.kr/p/{base58}``
    short links, with or without scheme. Returns None otherwise, also for URLs that merely
    carry a Flickr URL in their query: which resizer is a proxy is not knowable here.
    """
    split = _split(url)
    if split is None:
        return None
    host, path, query = split
    if host.endswith("flickr.com"):
        static_host = _STATIC_HOST.fullmatch(host)
        if static_host is not None:
            return _static_ref(static_host, path)
        if _PAGE_HOST.fullmatch(host):
            return _page_ref(path, query)
    elif host == "flic.kr":
        short = _SHORT_PATH.fullmatch(path)
        if short is not None:
            return FlickrRef(_base58_decode(short.group(1)), None, None, None, None)
    elif _PHOTON_HOST.fullmatch(host) and _STATIC_HOST.fullmatch(path[1:].partition("/")[0]):
        # WordPress's image proxy (Photon) serves https://i0.wp.com/{host}/{path}: the
        # bytes are the Flickr photo's, so the row is that photo. Photon's query is its own.
        return parse_flickr_url("https://" + path[1:])
    return None


def flickr_owner(value: str, *, bare_alias: bool = False) -> str | None:
    """Return the owner (NSID or path alias) named by a raw NSID or a Flickr page URL.

    NSIDs are returned as Flickr writes them (``12345678@N00``), aliases as they appear
    in the URL. A bare word is accepted only with ``bare_alias=True``, i.e. where the
    context says it is an account (a ``--flickr-user`` query, an owner column): elsewhere
    it could be a display name, which identifies no account. Static image URLs give None.
    """
    text = value.strip() if isinstance(value, str) else ""
    nsid = _NSID.fullmatch(text)
    if nsid is not None:
        return f"{nsid.group(1)}@N{nsid.group(2)}"
    if bare_alias and _ALIAS.fullmatch(text) and text.lower() not in _NOT_OWNERS:
        return text
    split = _split(text)
    if split is None or not _PAGE_HOST.fullmatch(split[0]):
        return None
    match = _OWNER_PATH.fullmatch(split[1])
    if match is None:
        return None
    owner = unquote(match.group(1))
    nsid = _NSID.fullmatch(owner)
    if nsid is not None:
        return f"{nsid.group(1)}@N{nsid.group(2)}"
    if owner.lower() in _NOT_OWNERS or not _ALIAS.fullmatch(owner):
        return None
    return owner


def _split(url: str) -> tuple[str, str, str] | None:
    """Host, path and query of a canonicalised URL; a missing scheme means https."""
    # Ingest calls this for every row; most are not Flickr and leave here, unparsed.
    if not isinstance(url, str) or "flic" not in url.lower():
        return None
    text = url.strip()
    if not _SCHEME.match(text):
        text = "https://" + text
    try:
        canonical = canonical_url(text)
    except UrlError:
        return None
    rest = canonical.partition("://")[2]
    slash = rest.find("/")
    host = rest[:slash].partition(":")[0]
    path, _, query = rest[slash:].partition("?")
    return host, path, query


def _static_ref(host: re.Match[str], path: str) -> FlickrRef | None:
    match = _STATIC_PATH.fullmatch(path)
    if match is None:
        return None
    farm_in_path, server, photo_id, secret, size = match.groups()
    farm = farm_in_path or host.group(1)
    return FlickrRef(
        photo_id=int(photo_id),
        server=server,
        secret=secret,
        size=size,
        farm=None if farm is None else int(farm),
    )


def _page_ref(path: str, query: str) -> FlickrRef | None:
    page = _PAGE_PATH.fullmatch(path)
    if page is not None and page.group(1).lower() not in _NOT_OWNERS:
        return FlickrRef(int(page.group(2)), None, None, None, None)
    if path == "/photo.gne":
        gne = _GNE_QUERY.fullmatch(query)
        if gne is not None:
            return FlickrRef(int(gne.group(1)), None, None, None, None)
    return None


def _base58_decode(text: str) -> int:
    number = 0
    for char in text:
        number = number * 58 + _BASE58_VALUE[char]
    return number
