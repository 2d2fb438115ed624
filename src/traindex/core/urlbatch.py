"""Canonicalise a whole Arrow column of URLs at once.

Most dataset URLs are already canonical (lower-case ASCII host, no port, no escapes, no dot
segments). ``FAST_URL`` recognises them in one pass of Arrow's C++ regex engine (dot
segments are excluded by the regex itself), their host is cut out in Arrow too, and callers
pay Python work only for the rest, which go through ``canonical_url`` one by one. The fast
path is only an optimisation: ``tests/unit/core/test_urlbatch.py`` generates URLs from
``FAST_URL`` and checks that ``canonical_url`` leaves every one unchanged.

``canonicalise_url_hosts`` stops at the host; ``canonicalise_urls`` adds the registrable
domain (Public Suffix List, once per distinct host). The split exists because the domain
is half the cost of a batch and the registry's matching (bulk check, ``traindex filter``)
walks parent domains itself and never uses it; ingest stores it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from traindex.core.distinct import map_distinct
from traindex.core.urls import UrlError, canonical_url, host_of, registrable_domain

__all__ = ["FAST_URL", "UrlBatch", "UrlHosts", "canonicalise_url_hosts", "canonicalise_urls"]

_LABEL = r"[a-z0-9][a-z0-9-]{0,61}"
_PCHAR = r"A-Za-z0-9._~!$&'()*+,;=:@/\-"
# A path segment that is not a dot segment ("." or "..", which canonicalisation removes):
# empty, or a non-dot first, or "." and a non-dot, or ".." and at least one more character.
_NODOT = r"A-Za-z0-9_~!$&'()*+,;=:@\-"
_SEGMENT = rf"(?:[{_NODOT}][{_NODOT}.]*|\.[{_NODOT}][{_NODOT}.]*|\.\.[{_NODOT}.]+)?"
FAST_URL = (
    rf"^https?://{_LABEL}(?:\.{_LABEL})*\.[a-z][a-z0-9-]{{0,61}}(?:/{_SEGMENT})+"
    rf"(?:\?[{_PCHAR}?]+)?$"
)


@dataclass(frozen=True, slots=True)
class UrlHosts:
    """Canonical URL and host per input row (null where rejected); ``errors`` holds the
    rejected rows and why."""

    url: pa.Array
    host: pa.Array
    errors: list[tuple[int, UrlError]]


@dataclass(frozen=True, slots=True)
class UrlBatch:
    """Canonical URL, host and domain per input row; ``errors`` holds the rows rejected."""

    url: pa.Array
    host: pa.Array
    domain: pa.Array
    errors: list[tuple[int, UrlError]]


def _fast_mask(raw: pa.Array, max_chars: int) -> pa.Array:
    mask = pc.match_substring_regex(raw, FAST_URL)
    # FAST_URL admits ASCII only, so on the rows it admits bytes are characters.
    mask = pc.and_(mask, pc.less_equal(pc.binary_length(raw), max_chars))
    return pc.fill_null(mask, False)


def _domain(host: str) -> str | None:
    return registrable_domain(host) if host else None


def canonicalise_url_hosts(raw: pa.Array, *, max_chars: int = 8192) -> UrlHosts:
    """Canonical form and host of every URL in ``raw`` (a string array); bad rows become
    ``errors``. Rows on the fast path never become Python objects."""
    raw = raw.cast(pa.string())
    slow = pc.invert(_fast_mask(raw, max_chars))
    slow_rows: list[int] = pc.indices_nonzero(slow).to_pylist()
    if not slow_rows:
        return UrlHosts(raw, _netlocs(raw), [])
    slow_urls: list[str | None] = []
    slow_hosts: list[str | None] = []
    errors: list[tuple[int, UrlError]] = []
    for i, value in zip(slow_rows, pc.filter(raw, slow).to_pylist(), strict=True):
        try:
            if value is None:
                raise UrlError("no URL")
            url = canonical_url(value, max_chars=max_chars)
        except UrlError as exc:
            errors.append((i, exc))
            slow_urls.append(None)
            slow_hosts.append(None)
            continue
        slow_urls.append(url)
        slow_hosts.append(host_of(url))
    urls = pc.replace_with_mask(raw, slow, pa.array(slow_urls, pa.string()))
    # Slow rows may keep a port in the netloc: their hosts come from ``host_of``.
    hosts = pc.replace_with_mask(_netlocs(urls), slow, pa.array(slow_hosts, pa.string()))
    return UrlHosts(urls, hosts, errors)


def _netlocs(urls: pa.Array) -> pa.Array:
    """``host[:port]`` of canonical URLs (``scheme://netloc/...``; null stays null)."""
    return pc.list_element(pc.split_pattern(urls, "/", max_splits=3), 2)


def canonicalise_urls(raw: pa.Array, *, max_chars: int = 8192) -> UrlBatch:
    """``canonicalise_url_hosts`` plus each row's registrable domain (null for none)."""
    batch = canonicalise_url_hosts(raw, max_chars=max_chars)
    domains = map_distinct(batch.host, _domain, pa.string())
    return UrlBatch(batch.url, batch.host, domains, batch.errors)
