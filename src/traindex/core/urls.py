"""URL canonicalisation and registrable domains: the keys of the exact-URL and domain indexes.

Two dataset releases, or a dataset and a creator's query, must agree on one spelling of the
same address, otherwise "exact URL" search misses. ``canonical_url`` therefore applies only
rewrites that never change which resource a browser fetches (RFC 3986 §6.2.2 plus the
WHATWG URL Standard's handling of hosts and backslashes):

- scheme and host lower-cased, IDN hosts in punycode, a trailing dot dropped, default
  ports (80/443) removed, userinfo and fragment dropped (never sent to the server);
- ``%XX`` of unreserved characters decoded, other escapes upper-cased, characters that
  must be escaped (space, non-ASCII, ``"<>[]{}|^```, a stray ``%``) escaped as UTF-8;
  reserved characters are never decoded, so ``%2F`` stays ``%2F``;
- dot segments removed, an empty path becomes ``/``, an empty query (bare ``?``) dropped.

Query parameters are not sorted or removed: servers may give them meaning. The function
is idempotent, which is what lets an index store canonical URLs and canonicalise queries.
Anything that is not an absolute http(s) URL raises ``UrlError`` with the reason.

``registrable_domain`` uses the offline Public Suffix List shipped in ``publicsuffixlist``,
*including its private section*: ``alice.github.io`` and ``bob.github.io`` are different
owners, and a domain search for one must not return the other. Unknown top-level labels
follow the PSL default rule ``*``, so ``localhost`` is itself a public suffix. Path-style S3
endpoints (``s3.amazonaws.com``) are private-section suffixes too: their rows get no domain,
because the owner is the bucket named in the path, not the host.

``url_parts`` runs once per dataset row at ingest, so per-host work (IDNA, port, PSL) is
cached and the common already-clean URL takes a regex-only fast path.
"""

from __future__ import annotations

import ipaddress
import re
import string
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote

import idna
from publicsuffixlist import PublicSuffixList

from traindex.errors import InputError

__all__ = [
    "UrlError",
    "UrlParts",
    "canonical_url",
    "host_of",
    "is_public_suffix",
    "registrable_domain",
    "url_parts",
]

_PSL = PublicSuffixList(accept_unknown=True, only_icann=False)
_DEFAULT_PORTS = {"http": "80", "https": "443"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_AFTER_SCHEME = re.compile(r"//([^/?#]*)([^?#]*)(?:\?([^#]*))?", re.DOTALL)
# Characters RFC 3986 allows unescaped in a path segment (pchar) plus "/"; the query
# additionally allows "?". "%" is absent on purpose: escapes always take the slow path.
_PATH_CLEAN = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/]*")
_QUERY_CLEAN = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/?]*")
_PATH_FIX = re.compile(r"%([0-9A-Fa-f]{2})|([^A-Za-z0-9\-._~!$&'()*+,;=:@/])")
_QUERY_FIX = re.compile(r"%([0-9A-Fa-f]{2})|([^A-Za-z0-9\-._~!$&'()*+,;=:@/?])")
_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
# RFC 3986 reg-name without "%": everything a host may hold once it is ASCII.
_HOST_CHARS = re.compile(r"[a-z0-9\-._~!$&'()*+,;=]+")
_NUMERIC_LABEL = re.compile(r"[0-9]+")
_HOST_CACHE = 1 << 17


class UrlError(InputError):
    """A value cannot be read as an absolute http(s) URL; the message says why."""


@dataclass(frozen=True, slots=True)
class UrlParts:
    """A canonical URL with the index keys derived from it.

    ``host`` is as it appears in ``url`` (IPv6 in brackets); ``domain`` is the registrable
    domain, the bare IP for IP hosts, or None when the host is itself a public suffix.
    """

    url: str
    host: str
    domain: str | None


def canonical_url(raw: str, *, max_chars: int = 8192) -> str:
    """Return the canonical spelling of an http(s) URL (see the module docstring).

    Raises ``UrlError`` if the value is empty, longer than ``max_chars`` (before or after
    escaping), holds a control character, has another scheme, no host or a bad port.
    """
    return _canonical(raw, max_chars)[0]


def url_parts(raw: str, *, max_chars: int = 8192) -> UrlParts:
    """Canonicalise ``raw`` and derive its host and registrable domain in one pass."""
    url, host = _canonical(raw, max_chars)
    return UrlParts(url, host, _domain_of_canonical_host(host))


def host_of(url: str) -> str:
    """Return the host of an already canonical URL, without port, IPv6 in brackets."""
    start = url.find("://")
    if start < 0:
        raise UrlError(f"not an absolute URL: {url[:80]!r}")
    start += 3
    end = url.find("/", start)
    netloc = url[start:] if end < 0 else url[start:end]
    if netloc.startswith("["):
        return netloc.partition("]")[0] + "]"
    return netloc.partition(":")[0]


def registrable_domain(host: str) -> str | None:
    """Return the eTLD+1 of ``host`` (``www.bbc.co.uk`` -> ``bbc.co.uk``).

    Unicode and punycode spellings give the same punycode answer; case and a trailing dot
    do not matter. An IPv4/IPv6 literal gives the bare address; a host that is itself a
    public suffix (``co.uk``, ``github.io``, ``localhost``) gives None. Raises ``UrlError``
    for a value that cannot be a host at all.
    """
    return _domain_of_canonical_host(_host_key(host))


def is_public_suffix(name: str) -> bool:
    """True if ``name`` is a public suffix (ICANN or private section, or unknown TLD)."""
    key = _host_key(name)
    if _ip_literal(key) is not None:
        return False
    return bool(_PSL.is_public(key))


def _canonical(raw: str, max_chars: int) -> tuple[str, str]:
    text = raw.strip()
    _check_text(raw, text, max_chars)
    scheme_match = _SCHEME.match(text)
    if scheme_match is None:
        raise UrlError(f"not an absolute URL (no scheme): {text[:80]!r}")
    scheme = scheme_match.group(1).lower()
    if scheme not in _DEFAULT_PORTS:
        raise UrlError(f"unsupported scheme {scheme!r}: only http and https URLs are indexed")
    rest = text[scheme_match.end() :]
    if "\\" in rest:
        rest = _backslashes_to_slashes(rest)
    parts = _AFTER_SCHEME.match(rest)
    if parts is None:
        raise UrlError(f"URL has no host: {text[:80]!r}")
    authority, path, query = parts.group(1, 2, 3)
    netloc, host = _netloc(scheme, authority)
    path = _clean_path(path)
    url = f"{scheme}://{netloc}{path}"
    if query:
        url += "?" + (query if _QUERY_CLEAN.fullmatch(query) else _escape(_QUERY_FIX, query))
    if len(url) > max_chars:
        raise UrlError(f"URL is {len(url)} characters once escaped, more than {max_chars}")
    return url, host


def _check_text(raw: str, text: str, max_chars: int) -> None:
    if not text:
        raise UrlError("URL is empty")
    if len(text) > max_chars:
        raise UrlError(f"URL is {len(text)} characters long, more than {max_chars}")
    # isascii/isprintable run in C and clear almost every URL without the regex.
    control = None if text.isascii() and text.isprintable() else _CONTROL.search(text)
    if control is not None:
        position = control.start() + len(raw) - len(raw.lstrip())
        raise UrlError(
            f"URL contains control character U+{ord(control.group()):04X} at position {position}"
        )


def _backslashes_to_slashes(rest: str) -> str:
    # Browsers read "\" as "/" in http(s) URLs up to the query or fragment, so the
    # dataset's spelling and the fetched address differ only there.
    cut = len(rest)
    for mark in "?#":
        found = rest.find(mark)
        if 0 <= found < cut:
            cut = found
    return rest[:cut].replace("\\", "/") + rest[cut:]


def _clean_path(path: str) -> str:
    if not path:
        return "/"
    if not _PATH_CLEAN.fullmatch(path):
        path = _escape(_PATH_FIX, path)
    if "/." in path:
        path = _remove_dot_segments(path)
    return path


def _escape(pattern: re.Pattern[str], text: str) -> str:
    return pattern.sub(_fix_escape, text)


def _fix_escape(match: re.Match[str]) -> str:
    hex_pair = match.group(1)
    if hex_pair is not None:
        char = chr(int(hex_pair, 16))
        return char if char in _UNRESERVED else "%" + hex_pair.upper()
    char = match.group(2)
    try:
        data = char.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate: the text was decoded wrongly upstream and has no UTF-8 form.
        raise UrlError(f"URL contains U+{ord(char):04X}, which is not valid Unicode") from None
    return "".join(f"%{byte:02X}" for byte in data)


def _remove_dot_segments(path: str) -> str:
    # RFC 3986 §5.2.4 for a path that starts with "/" (it always does after an authority).
    segments = path.split("/")[1:]
    kept: list[str] = []
    for segment in segments:
        if segment == "..":
            if kept:
                kept.pop()
        elif segment != ".":
            kept.append(segment)
    if segments[-1] in (".", ".."):
        kept.append("")
    return "/" + "/".join(kept)


@lru_cache(maxsize=_HOST_CACHE)
def _netloc(scheme: str, authority: str) -> tuple[str, str]:
    """Canonical ``host[:port]`` and host for one authority; cached because hosts repeat."""
    hostport = authority.rpartition("@")[2]
    if hostport.startswith("["):
        host, bracket, port = hostport[1:].partition("]")
        if not bracket or (port and not port.startswith(":")):
            raise UrlError(f"malformed IPv6 host in {authority!r}")
        host = "[" + _ipv6(host) + "]"
        port = port[1:]
    else:
        host_text, _, port = hostport.partition(":")
        host = _host_key(host_text)
    port = _port(port, authority)
    if port and port != _DEFAULT_PORTS[scheme]:
        return f"{host}:{port}", host
    return host, host


def _port(port: str, authority: str) -> str:
    if not port:
        return ""
    if not port.isascii() or not port.isdigit() or int(port) > 65535:
        raise UrlError(f"invalid port {port!r} in {authority!r}")
    return str(int(port))


def _ipv6(text: str) -> str:
    try:
        return ipaddress.IPv6Address(text).compressed
    except ValueError:
        raise UrlError(f"invalid IPv6 address {text!r}") from None


@lru_cache(maxsize=_HOST_CACHE)
def _host_key(text: str) -> str:
    """Lower-case ASCII (punycode) spelling of a host name, validated; IPv6 unbracketed."""
    host = text.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:
        return _ipv6(host)
    if "%" in host:
        host = _unquote_host(host)
    if not host.isascii():
        host = _to_punycode(host)
    # Last, because unquoting and IDNA can both produce a trailing dot (e.g. from "。").
    host = host.rstrip(".")
    if not host:
        raise UrlError("URL has no host")
    if not _HOST_CHARS.fullmatch(host):
        raise UrlError(f"invalid characters in host {host!r}")
    if _NUMERIC_LABEL.fullmatch(host.rpartition(".")[2]):
        _check_ipv4(host)
    return host


def _unquote_host(host: str) -> str:
    # Browsers decode escapes in the host before IDNA, so "%65xample.com" is example.com.
    try:
        return unquote(host, errors="strict").lower()
    except UnicodeDecodeError:
        raise UrlError(f"host {host!r} has escapes that are not UTF-8") from None


def _to_punycode(host: str) -> str:
    try:
        return idna.encode(host, uts46=True, transitional=False).decode("ascii")
    except idna.IDNAError:
        pass
    # idna follows IDNA 2008 strictly; browsers also accept e.g. "_" or symbols in labels,
    # which Python's IDNA 2003 codec encodes the same way they do.
    try:
        return host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise UrlError(f"host {host!r} is not a valid international domain name") from None


def _check_ipv4(host: str) -> None:
    # WHATWG reads a host ending in a number as IPv4 (octal, hex and short forms included);
    # only the unambiguous dotted-quad form is kept, the rest would be guesses.
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        raise UrlError(f"host {host!r} looks like an IPv4 address but is not one") from None


def _ip_literal(host: str) -> str | None:
    if ":" in host or _NUMERIC_LABEL.fullmatch(host.rpartition(".")[2]):
        return host
    return None


@lru_cache(maxsize=_HOST_CACHE)
def _domain_of_canonical_host(host: str) -> str | None:
    if host.startswith("["):
        return host[1:-1]
    if _ip_literal(host) is not None:
        return host
    domain = _PSL.privatesuffix(host)
    return None if domain is None else str(domain)
