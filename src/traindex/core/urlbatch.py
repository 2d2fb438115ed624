"""Canonicalise a whole Arrow column of URLs at once.

Most dataset URLs are already canonical (lower-case host, no port, no escapes, no dot
segments). ``FAST_URL`` recognises them inside Arrow's C++ regex engine, so ingest pays
Python work only for the rest, which go through ``url_parts`` one by one. The fast path is
only an optimisation: ``tests/unit/core/test_urlbatch.py`` generates URLs from ``FAST_URL``
and checks that ``canonical_url`` leaves every one unchanged. Domains are computed once
per distinct host.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from traindex.core.distinct import map_distinct
from traindex.core.urls import UrlError, registrable_domain, url_parts

__all__ = ["FAST_URL", "UrlBatch", "canonicalise_urls"]

_LABEL = r"[a-z0-9][a-z0-9-]{0,61}"
_PCHAR = r"A-Za-z0-9._~!$&'()*+,;=:@/\-"
FAST_URL = (
    rf"^https?://{_LABEL}(?:\.{_LABEL})*\.[a-z][a-z0-9-]{{0,61}}/[{_PCHAR}]*(?:\?[{_PCHAR}?]+)?$"
)
_HOST = r"^https?://(?P<host>[^/]+)/"
# substrings that send an otherwise fast-looking URL to the careful path
_SLOW_MARKERS = ("/./", "/../", "/.?", "/..?", "xn--")
_SLOW_ENDINGS = ("/.", "/..")


@dataclass(frozen=True, slots=True)
class UrlBatch:
    """Canonical URL, host and domain per input row; ``errors`` holds the rows rejected."""

    url: pa.Array
    host: pa.Array
    domain: pa.Array
    errors: list[tuple[int, UrlError]]


def _fast_mask(raw: pa.Array, max_chars: int) -> pa.Array:
    mask = pc.fill_null(pc.match_substring_regex(raw, FAST_URL), False)
    mask = pc.and_(mask, pc.less_equal(pc.utf8_length(raw), max_chars))
    for marker in _SLOW_MARKERS:
        mask = pc.and_(mask, pc.invert(pc.fill_null(pc.match_substring(raw, marker), False)))
    for ending in _SLOW_ENDINGS:
        mask = pc.and_(mask, pc.invert(pc.fill_null(pc.ends_with(raw, ending), False)))
    return pc.fill_null(mask, False)


def _domain(host: str) -> str | None:
    return registrable_domain(host) if host else None


def canonicalise_urls(raw: pa.Array, *, max_chars: int = 8192) -> UrlBatch:
    """Canonical form of every URL in ``raw`` (a string array); bad rows become ``errors``."""
    fast = _fast_mask(raw, max_chars)
    urls: list[str | None] = raw.to_pylist()
    hosts: list[str | None] = [None] * len(raw)
    fast_hosts = pc.struct_field(pc.extract_regex(pc.filter(raw, fast), _HOST), "host")
    fast_idx = pc.indices_nonzero(fast).to_pylist()
    for i, host in zip(fast_idx, fast_hosts.to_pylist(), strict=True):
        hosts[i] = host
    errors: list[tuple[int, UrlError]] = []
    for i in pc.indices_nonzero(pc.invert(fast)).to_pylist():
        value = urls[i]
        try:
            if value is None:
                raise UrlError("no URL")
            parts = url_parts(value, max_chars=max_chars)
        except UrlError as exc:
            errors.append((i, exc))
            urls[i] = None
            continue
        urls[i], hosts[i] = parts.url, parts.host
    host_array = pa.array(hosts, pa.string())
    domains = map_distinct(host_array, _domain, pa.string())
    return UrlBatch(pa.array(urls, pa.string()), host_array, domains, errors)
