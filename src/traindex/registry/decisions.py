"""The decision index: every active claim in memory, keyed the way checked items are looked up.

Why in memory: a builder's bulk check asks about 10,000 items at once against up to millions
of claims, and the answer must come in well under a second. SQL per item would be 10,000
round trips; one SQL join per call would rebuild the same hash tables every time. So the
service loads claims once into dicts (exact URL key, Flickr owner, SHA-256, MD5), a per-host
table of URL prefixes (looked up by the few distinct prefix lengths of that host), a domain
table walked from the host up through its parent domains, and a PDQ matrix and an ISCC
Image-Code matrix scanned by brute force (image claims are few; exact Hamming scans).
Writes update the index claim by claim (``apply``), so a check right after a write sees it.

How decisions are made (``resolve``): expired claims never count; unverified claims count
only with ``count_unverified``; of the counted claims the most restrictive decides
(``models.RESTRICTIVENESS``) and every claim at that level is named.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import repeat
from typing import cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from traindex.core.flickr import flickr_owner
from traindex.core.urlbatch import canonicalise_url_hosts
from traindex.core.urls import host_of
from traindex.fingerprint.base import PDQ_MATCH_RADIUS
from traindex.fingerprint.iscc import DEFAULT_ISCC_RADIUS
from traindex.index.brute import scan
from traindex.registry.items import HASH_KINDS, parse_item
from traindex.registry.keyfilter import KeyFilter
from traindex.registry.models import DECISION_OF_TERMS, RESTRICTIVENESS, Decision, DecisionValue
from traindex.registry.selectors import flickr_key, url_key

__all__ = ["ClaimRecord", "DecisionIndex", "Matches"]

Matches = tuple[str, ...]
_NONE: Matches = ()
# Distinct hosts remembered with their domain claims (cleared when full or claims change).
_HOST_CACHE = 1 << 18
_UNSEEN: Matches = ("<not cached>",)  # compared by identity
_NEAR_KINDS = ("pdq", "iscc")


@dataclass(frozen=True, slots=True)
class ClaimRecord:
    """What the index needs of one claim row (``expires_at`` as a POSIX timestamp)."""

    id: str
    kind: str
    value: str
    include_subdomains: bool
    sha256: str | None
    md5: str | None
    pdq: str | None
    terms: str
    status: str
    expires_at: float | None
    iscc: str | None = None


@dataclass(frozen=True, slots=True)
class _Entry:
    decision: DecisionValue
    verified: bool
    expires_at: float | None


def _add(table: dict[str, Matches], key: str, claim_id: str) -> None:
    table[key] = (*table.get(key, _NONE), claim_id)


def _remove(table: dict[str, Matches], key: str, claim_id: str) -> None:
    left = tuple(i for i in table.get(key, _NONE) if i != claim_id)
    if left:
        table[key] = left
    else:
        table.pop(key, None)


class DecisionIndex:
    """Active claims by lookup key. Not thread-safe: the service serialises access."""

    def __init__(
        self, pdq_radius: int = PDQ_MATCH_RADIUS, iscc_radius: int = DEFAULT_ISCC_RADIUS
    ) -> None:
        self.pdq_radius = pdq_radius
        self.iscc_radius = iscc_radius
        self._entries: dict[str, _Entry] = {}
        self._keys: dict[str, tuple[str, ...]] = {}
        self._prefix_lengths: dict[str, tuple[int, ...]] = {}
        self._tables: dict[str, dict[str, Matches]] = {
            name: {} for name in ("url", "domain", "subdomains", "flickr", *HASH_KINDS)
        }
        self._prefixes: dict[str, dict[str, Matches]] = {}
        # Near-match kinds (pdq, iscc): their claimed codes as one matrix, built on demand.
        self._near_cache: dict[str, tuple[NDArray[np.uint8], list[str]]] = {}
        self._host_cache: dict[str, Matches | None] = {}
        # Last two labels of every domain claim (with counts), and how many claims are on
        # one-label names: while none are, a host whose last two labels are not in the
        # table has no domain claim on itself or a parent, and its walk is skipped.
        self._domain_tails: dict[str, int] = {}
        self._one_label_domains = 0
        self._url_filter = KeyFilter(self._tables["url"].keys)

    def __len__(self) -> int:
        return len(self._entries)

    def has(self, table: str) -> bool:
        """True if any active claim is indexed in ``table`` (``flickr``, ``sha256``, ``md5``,
        ...): lets callers skip turning a column into Python objects when nothing can match."""
        return bool(self._tables[table])

    def prepare(self) -> None:
        """Build the lookup tables that are otherwise built by the first check (the URL key
        hash table: ~0.4 s at 1M URL claims): before forking filter workers, so they share
        it, or before timing checks."""
        self._url_filter.prepare()

    def apply(self, record: ClaimRecord) -> None:
        """Bring one claim up to date: (re)index it, or drop it once revoked."""
        self._drop(record.id)
        if record.status == "revoked":
            return
        self._entries[record.id] = _Entry(
            DECISION_OF_TERMS[record.terms], record.status == "verified", record.expires_at
        )
        for table, key in self._keys_of(record):
            if table == "prefix":
                host = host_of("http:" + key)
                _add(self._prefixes.setdefault(host, {}), key, record.id)
                self._prefix_lengths.pop(host, None)
            else:
                _add(self._tables[table], key, record.id)
                if table == "url":
                    self._url_filter.add(key)
                self._count_tail(table, key, 1)
            self._forget_hosts(table)
            self._keys[record.id] = (*self._keys.get(record.id, ()), table + "\0" + key)
        if record.pdq or record.iscc:
            self._near_cache.clear()

    def _keys_of(self, record: ClaimRecord) -> list[tuple[str, str]]:
        if record.kind == "url":
            return [("url", url_key(record.value))]
        if record.kind == "url_prefix":
            return [("prefix", url_key(record.value))]
        if record.kind == "domain":
            return [("subdomains" if record.include_subdomains else "domain", record.value)]
        if record.kind == "flickr_owner":
            return [("flickr", record.value)]
        return [(kind, value) for kind in HASH_KINDS if (value := getattr(record, kind))]

    def _drop(self, claim_id: str) -> None:
        if self._entries.pop(claim_id, None) is None:
            return
        for packed in self._keys.pop(claim_id, ()):
            table, key = packed.split("\0", 1)
            if table == "prefix":
                host = host_of("http:" + key)
                _remove(self._prefixes.get(host, {}), key, claim_id)
                self._prefix_lengths.pop(host, None)
            else:
                if table in _NEAR_KINDS:
                    self._near_cache.pop(table, None)
                _remove(self._tables[table], key, claim_id)
                self._count_tail(table, key, -1)
            self._forget_hosts(table)

    def _forget_hosts(self, table: str) -> None:
        if table in ("domain", "subdomains", "prefix"):
            self._host_cache.clear()

    def _count_tail(self, table: str, domain: str, change: int) -> None:
        if table not in ("domain", "subdomains"):
            return
        if "." not in domain:
            self._one_label_domains += change
        tail = _tail(domain)
        count = self._domain_tails.get(tail, 0) + change
        if count:
            self._domain_tails[tail] = count
        else:
            del self._domain_tails[tail]

    # lookups -----------------------------------------------------------------------------

    def match_url_rows(self, urls: pa.Array) -> tuple[dict[int, Matches], dict[int, str]]:
        """``{row: claims}`` for the rows of ``urls`` (a string array) that match any claim,
        and ``{row: reason}`` for bad URLs.

        Vectorised for bulk use: URLs are canonicalised in Arrow (without registrable
        domains, which matching never needs), hosts are decided once per distinct host, a
        hash table in numpy (``KeyFilter``) finds the rows whose URL key may have a claim,
        and only rows with a claimed host or a candidate key get per-row Python work.
        """
        batch = canonicalise_url_hosts(urls)
        errors = {row: str(error) for row, error in batch.errors}
        found = self._exact_rows(batch.url)
        encoded = cast(pa.DictionaryArray, pc.dictionary_encode(batch.host))
        hosts: list[str] = encoded.dictionary.to_pylist()
        by_host = self._host_entries(hosts)
        busy = [i for i, entry in enumerate(by_host) if entry is not None]
        if not busy:
            return found, errors
        rows = pc.indices_nonzero(
            pc.is_in(encoded.indices, value_set=pa.array(busy, encoded.indices.type))
        )
        host_ids: list[int] = pc.take(encoded.indices, rows).to_pylist()
        row_urls: list[str] = pc.take(batch.url, rows).to_pylist()
        for row, host_id, url in zip(rows.to_pylist(), host_ids, row_urls, strict=True):
            host, key = hosts[host_id], url_key(url)
            hit = found.get(row, _NONE) + (by_host[host_id] or _NONE)
            if host in self._prefixes:
                hit = hit + self._prefix_matches(host, key)
            if "flickr.com" in host:
                owner = flickr_owner("http:" + key)
                if owner is not None:
                    hit = hit + self._tables["flickr"].get(flickr_key(owner), _NONE)
            if hit:
                found[row] = hit
        return found, errors

    def _exact_rows(self, urls: pa.Array) -> dict[int, Matches]:
        """Rows of canonical ``urls`` whose URL key has a claim: the key filter names the
        candidates (hashing each URL after its scheme, i.e. its key, in place), the dict
        confirms them, so only candidate rows become Python strings."""
        exact = self._tables["url"]
        if not exact:
            return {}
        https = pc.fill_null(pc.starts_with(urls, "https:"), False)
        skip = len("http:") + https.to_numpy(zero_copy_only=False).astype(np.int64)
        rows = np.flatnonzero(self._url_filter.candidates(urls, skip))
        found: dict[int, Matches] = {}
        for row, url in zip(rows.tolist(), pc.take(urls, rows).to_pylist(), strict=True):
            hit = exact.get(url_key(url))
            if hit:
                found[row] = hit
        return found

    def _host_entries(self, hosts: list[str]) -> list[Matches | None]:
        """Per distinct host: its domain claims (incl. parents), or None for a quiet host
        (no domain claim, no URL prefixes, not Flickr) whose rows need no further look.
        Cached per host until domain or prefix claims change: hosts repeat across batches."""
        cache = self._host_cache
        entries = list(map(cache.get, hosts, repeat(_UNSEEN, len(hosts))))
        for i in [i for i, entry in enumerate(entries) if entry is _UNSEEN]:
            host = hosts[i]
            hit = self._domain_matches(host)
            entry = hit if hit or host in self._prefixes or "flickr.com" in host else None
            if len(cache) >= _HOST_CACHE:
                cache.clear()
            entries[i] = cache[host] = entry
        return entries

    def _domain_matches(self, host: str) -> Matches:
        if not self._one_label_domains and _tail(host) not in self._domain_tails:
            return _NONE  # no claimed domain can be the host or one of its parents
        hit = self._tables["domain"].get(host, _NONE)
        subdomains = self._tables["subdomains"]
        if not subdomains:
            return hit
        suffix = host
        while True:  # the host, then each parent: a.b.c, b.c, c
            hit = hit + subdomains.get(suffix, _NONE)
            dot = suffix.find(".")
            if dot < 0:
                return hit
            suffix = suffix[dot + 1 :]

    def _prefix_matches(self, host: str, key: str) -> Matches:
        table = self._prefixes[host]
        lengths = self._prefix_lengths.get(host)
        if lengths is None:
            lengths = self._prefix_lengths[host] = tuple(sorted({len(k) for k in table}))
        hit = _NONE
        for length in lengths:
            if length > len(key):
                break
            hit = hit + table.get(key[:length], _NONE)
        return hit

    def match_owners(self, owners: Sequence[str | None]) -> list[Matches]:
        """Claims on each Flickr owner: an NSID, alias or profile URL, as owner columns hold."""
        table = self._tables["flickr"]
        if not table:
            return [_NONE] * len(owners)
        found: list[Matches] = []
        for value in owners:
            owner = flickr_owner(value, bare_alias=True) if value else None
            found.append(_NONE if owner is None else table.get(flickr_key(owner), _NONE))
        return found

    def match_hashes(self, kind: str, values: Sequence[str | None]) -> list[Matches]:
        """Claims on each hex digest: equal SHA-256/MD5, PDQ within ``pdq_radius``, ISCC
        Image-Code body within ``iscc_radius``."""
        table = self._tables[kind]
        if not table:
            return [_NONE] * len(values)
        if kind in _NEAR_KINDS:
            return [self._near_matches(kind, v.strip().lower()) if v else _NONE for v in values]
        return [table.get(v.strip().lower(), _NONE) if v else _NONE for v in values]

    def _near_matches(self, kind: str, hex_digest: str) -> Matches:
        cached = self._near_cache.get(kind)
        if cached is None:
            keys = list(self._tables[kind])
            width = len(keys[0]) // 2
            matrix = np.frombuffer(bytes.fromhex("".join(keys)), np.uint8).reshape(-1, width)
            cached = self._near_cache[kind] = (matrix, keys)
        matrix, keys = cached
        query = np.frombuffer(bytes.fromhex(hex_digest), np.uint8)
        if kind == "pdq":
            rows, _ = scan(matrix, query, self.pdq_radius)
        else:  # 64-bit ISCC bodies: one word per code
            distance = np.bitwise_count(matrix.view(np.uint64)[:, 0] ^ query.view(np.uint64)[0])
            rows = np.flatnonzero(distance <= self.iscc_radius)
        hit = _NONE
        for row in rows.tolist():
            hit = hit + self._tables[kind][keys[row]]
        return hit

    # decisions ---------------------------------------------------------------------------

    def resolve(
        self, item: str, ids: Matches, *, count_unverified: bool, now: datetime
    ) -> Decision:
        """The decision for one item from the claims that matched it (see module docstring)."""
        stamp = now.timestamp()
        if len(ids) == 1:  # the common case, without the general bookkeeping
            entry = self._entries.get(ids[0])
            if entry is None or (entry.expires_at is not None and entry.expires_at <= stamp):
                return Decision(item, "unknown", (), False)
            if entry.verified or count_unverified:
                return Decision(item, entry.decision, ids, entry.verified)
            return Decision(item, "unknown", (), False, ids)
        counted: list[tuple[str, _Entry]] = []
        ignored: list[str] = []
        for claim_id in dict.fromkeys(ids):
            entry = self._entries.get(claim_id)
            if entry is None or (entry.expires_at is not None and entry.expires_at <= stamp):
                continue
            if entry.verified or count_unverified:
                counted.append((claim_id, entry))
            else:
                ignored.append(claim_id)
        if not counted:
            return Decision(item, "unknown", (), False, tuple(ignored))
        top = max(RESTRICTIVENESS[entry.decision] for _, entry in counted)
        deciding = [(i, e) for i, e in counted if RESTRICTIVENESS[e.decision] == top]
        verified = all(entry.verified for _, entry in deciding)
        decision = deciding[0][1].decision
        return Decision(item, decision, tuple(i for i, _ in deciding), verified, tuple(ignored))

    def check(
        self, items: Sequence[str], *, count_unverified: bool, now: datetime
    ) -> list[Decision]:
        """Decide each item: a URL, or ``sha256:``/``md5:``/``pdq:``/``iscc:`` and hex."""
        parsed = [parse_item(item) for item in items]
        url_rows = [i for i, digest in enumerate(parsed) if digest is None]
        urls = pa.array([items[i] for i in url_rows], pa.string())
        url_hits, url_errors = self.match_url_rows(urls)
        found = {url_rows[local]: hit for local, hit in url_hits.items()}
        errors = {url_rows[local]: error for local, error in url_errors.items()}
        for row, digest in enumerate(parsed):
            if digest is not None:
                if digest.error is None:
                    found[row] = self.match_hashes(digest.kind, [digest.value])[0]
                else:
                    errors[row] = digest.error
        decisions = []
        for row, item in enumerate(items):
            if row in errors:
                decisions.append(Decision(item, "unknown", (), False, (), errors[row]))
            elif hit := found.get(row):
                decisions.append(
                    self.resolve(item, hit, count_unverified=count_unverified, now=now)
                )
            else:
                decisions.append(Decision(item, "unknown", (), False))
        return decisions


def _tail(name: str) -> str:
    """The last two labels of a host or domain (all of it if it has fewer)."""
    return name[name.rfind(".", 0, max(name.rfind("."), 0)) + 1 :]
