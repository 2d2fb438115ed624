"""Who decides that a row goes: the registry (local index, snapshot or HTTP API) and signals.

A decider sees one batch of rows as Arrow string columns (raw URL, Flickr owner, SHA-256,
MD5; any may be missing; Arrow so that the index decider never turns the rows that match
nothing into Python objects) and returns, per row, ``None`` (keep) or a ``Removal`` naming why.
Rows are removed only for ``do_not_train`` (the registry's strictest decision) and, with
``--signals``, for a ``reserved`` signal verdict (and an ``unknown`` one with
``--unknown drop``: nothing could be read, e.g. robots.txt answered 503, or nothing states a
preference; logged as decision ``unknown``); ``license_required`` and attribution
terms are the builder's to honour, so they are counted in the log's decision column only
when the row goes for another reason.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from traindex.config import Settings
from traindex.core.trust import TrustedKeys
from traindex.errors import InputError
from traindex.filtering.content import (
    ContentMatches,
    ImageHit,
    image_matches,
    remote_image_matches,
)
from traindex.registry.client import RegistryClient
from traindex.registry.decisions import DecisionIndex, Matches
from traindex.registry.lookup import merge_decisions
from traindex.registry.models import Decision
from traindex.registry.service import RegistryService
from traindex.registry.snapshot import load_snapshot_index
from traindex.signals.base import Basis, Verdict
from traindex.signals.service import resolve_agents, run_checks
from traindex.signals.verdict import TargetVerdict

__all__ = [
    "UNKNOWN_CHOICES",
    "ChainDecider",
    "Columns",
    "Decider",
    "IndexDecider",
    "RemoteDecider",
    "Removal",
    "SignalsDecider",
    "open_decider",
]

UNKNOWN_CHOICES = ("keep", "drop")


@dataclass(frozen=True, slots=True)
class Columns:
    """One batch's lookup columns as string arrays (``None`` where the dataset has none)."""

    url: pa.Array
    flickr_owner: pa.Array | None = None
    sha256: pa.Array | None = None
    md5: pa.Array | None = None

    def __len__(self) -> int:
        return len(self.url)


@dataclass(frozen=True, slots=True)
class Removal:
    """Why a row was removed: ``reason`` is ``claim`` or ``signal``; ``source`` names the
    claim ids or the signals that decided; ``verified`` tells verified claims apart;
    ``match`` says how an image claim matched the row's image (method and distance).
    ``flag_only``: the row is kept, only reported: unverified claims name it but do not
    count (no ``--include-unverified``)."""

    reason: str
    decision: str
    source: str
    verified: bool
    match: str | None = None
    flag_only: bool = False


class Decider(ABC):
    """Decides a batch of rows."""

    @abstractmethod
    def decide(self, columns: Columns) -> list[Removal | None]:
        """Per row, ``None`` to keep it or the ``Removal`` that drops it."""

    def notes(self) -> list[str]:
        """What the user must know about this decider's coverage (printed by the CLI)."""
        return []


class IndexDecider(Decider):
    """Decisions from an in-process ``DecisionIndex`` (home registry or verified snapshot)."""

    def __init__(
        self,
        index: DecisionIndex,
        *,
        count_unverified: bool = False,
        content: ContentMatches[ImageHit] | None = None,
    ) -> None:
        self.index = index
        self.count_unverified = count_unverified
        self.content = content
        self._by_url = {} if content is None else content.by_url  # URL -> image hits
        index.prepare()  # now, so forked workers share the tables instead of each building

    def decide(self, columns: Columns) -> list[Removal | None]:
        # Sparse: only rows with a claim are touched in Python.
        found, _ = self.index.match_url_rows(columns.url)
        if columns.flickr_owner is not None and self.index.has("flickr"):
            _merge(found, self.index.match_owners(columns.flickr_owner.to_pylist()))
        for kind in ("sha256", "md5"):
            values: pa.Array | None = getattr(columns, kind)
            if values is not None and self.index.has(kind):
                _merge(found, self.index.match_hashes(kind, values.to_pylist()))
        images = self._merge_content(found, columns.url) if self._by_url else {}
        now = datetime.now(UTC)
        # Rows under one claimed domain share one Matches tuple: decide each tuple once.
        memo: dict[Matches, Removal | None] = {}
        out: list[Removal | None] = [None] * len(columns)
        for row, ids in found.items():
            if ids not in memo:
                memo[ids] = self._removal(ids, now)
            out[row] = memo[ids]
        for row, hits in images.items():
            removal = out[row]
            if removal is not None:  # name how the deciding image claims matched
                deciding = set(removal.source.split())
                said = [h.describe() for h in hits if h.claim_id in deciding]
                out[row] = replace(removal, match="; ".join(said) or None)
        return out

    def notes(self) -> list[str]:
        return [] if self.content is None else [self.content.note()]

    def _merge_content(
        self, found: dict[int, Matches], urls: pa.Array
    ) -> dict[int, tuple[ImageHit, ...]]:
        claimed = pa.array(list(self._by_url), pa.string())
        rows = pc.indices_nonzero(pc.fill_null(pc.is_in(urls, value_set=claimed), False))
        images = {}
        for row, url in zip(rows.to_pylist(), pc.take(urls, rows).to_pylist(), strict=True):
            hits = self._by_url[url]
            images[row] = hits
            found[row] = found.get(row, ()) + tuple(dict.fromkeys(h.claim_id for h in hits))
        return images

    def _removal(self, ids: Matches, now: datetime) -> Removal | None:
        decision = self.index.resolve("", ids, count_unverified=self.count_unverified, now=now)
        if decision.decision == "do_not_train":
            ids = decision.claim_ids
            return Removal("claim", decision.decision, " ".join(ids), decision.verified)
        return _flag(decision.unverified_claim_ids)


def _flag(unverified: Sequence[str]) -> Removal | None:
    """Rows kept although unverified claims (always do_not_train: other terms need proof)
    name them: counted in the summary, not removed."""
    if not unverified:
        return None
    return Removal("claim", "do_not_train", " ".join(unverified), False, flag_only=True)


def _merge(found: dict[int, Matches], more: list[Matches]) -> None:
    for row, ids in enumerate(more):
        if ids:
            found[row] = found.get(row, ()) + ids


class RemoteDecider(Decider):
    """Decisions from a registry server's bulk check API (``POST /api/registry/check``).

    ``content`` holds, per URL, the server's decisions on that row's image in a
    fingerprinted release (``filtering.remote_image_matches``, made once before the run),
    as ``IndexDecider`` has its image hits locally.
    """

    def __init__(
        self,
        base_url: str,
        *,
        count_unverified: bool = False,
        timeout: float = 60,
        content: ContentMatches[Decision] | None = None,
    ) -> None:
        self.client = RegistryClient(base_url, timeout=timeout)
        self.endpoint = self.client.endpoint
        self.count_unverified = count_unverified
        self.content = content

    def __reduce__(self) -> tuple[object, ...]:
        # a Ray filter task gets its own HTTP client (a client's sockets do not pickle)
        args = (self.client.base_url, self.count_unverified, self.client.timeout, self.content)
        return (_remote_decider, args)

    def check(self, items: Sequence[str]) -> list[Decision]:
        return self.client.check(items, count_unverified=self.count_unverified)

    def notes(self) -> list[str]:
        return [] if self.content is None else [self.content.note()]

    def decide(self, columns: Columns) -> list[Removal | None]:
        items: list[str] = []
        owners: list[int] = []
        lookups = [
            (prefix, values.to_pylist())
            for prefix, values in (
                ("", columns.url),
                ("sha256:", columns.sha256),
                ("md5:", columns.md5),
            )
            if values is not None
        ]
        for row in range(len(columns)):
            for prefix, values in lookups:
                value = values[row]
                if value:
                    items.append(prefix + value)
                    owners.append(row)
        out: list[Removal | None] = [None] * len(columns)
        for row, decision in zip(owners, self.check(items), strict=True):
            out[row] = _stricter(out[row], _remote_removal(decision))
        if self.content is not None:
            by_url = self.content.by_url
            for row, url in enumerate(columns.url.to_pylist()):
                if url in by_url:
                    out[row] = _stricter(out[row], _image_removal(url, by_url[url]))
        return out


def _remote_removal(decision: Decision, match: str | None = None) -> Removal | None:
    """A server's decision as a removal (``do_not_train``), a flag (unverified claims that
    did not count) or ``None``."""
    if decision.decision == "do_not_train":
        ids = " ".join(decision.claim_ids)
        return Removal("claim", "do_not_train", ids, decision.verified, match)
    flag = _flag(decision.unverified_claim_ids)
    return None if flag is None else replace(flag, match=match)


def _image_removal(url: str, decisions: Sequence[Decision]) -> Removal | None:
    """One URL's image decisions (one per digest the server matched) as one removal, naming
    how the deciding claims matched."""
    merged = merge_decisions(url, decisions)
    deciding = set(merged.claim_ids or merged.unverified_claim_ids)
    said = [
        f"claim {claim}: {_SERVER_METHOD[d.item.split(':', 1)[0]]}"
        for d in decisions
        for claim in dict.fromkeys((*d.claim_ids, *d.unverified_claim_ids))
        if claim in deciding
    ]
    return _remote_removal(merged, "; ".join(dict.fromkeys(said)) or None)


_SERVER_METHOD = {
    "sha256": "same file (SHA-256, registry server)",
    "iscc": "ISCC (within the registry server's radius)",
}


def _stricter(current: Removal | None, new: Removal | None) -> Removal | None:
    """A removal wins over a flag, and the first removal (or flag) over later ones."""
    if new is None or (current is not None and (new.flag_only or not current.flag_only)):
        return current
    return new


def _remote_decider(
    base_url: str,
    count_unverified: bool,
    timeout: float,
    content: ContentMatches[Decision] | None,
) -> RemoteDecider:
    return RemoteDecider(
        base_url, count_unverified=count_unverified, timeout=timeout, content=content
    )


class SignalsDecider(Decider):
    """Live opt-out signals (robots.txt, ai.txt, TDMRep, headers, IPTC, C2PA) per URL.

    Slow by nature (network): every distinct URL of the batch is fetched through
    ``traindex.signals`` with its caching and per-host limits.
    """

    def __init__(self, settings: Settings, unknown: str = "keep") -> None:
        if unknown not in UNKNOWN_CHOICES:
            raise InputError(f"--unknown must be keep or drop, got {unknown!r}")
        self.settings = settings
        self.agents = resolve_agents([])
        self.drop_unknown = unknown == "drop"

    def decide(self, columns: Columns) -> list[Removal | None]:
        all_urls: list[str | None] = columns.url.to_pylist()
        urls = [u for u in dict.fromkeys(all_urls) if u]
        verdicts = {v.target: v for v in run_checks(urls, self.settings, self.agents)}
        return [self._removal(verdicts.get(url) if url else None) for url in all_urls]

    def _removal(self, verdict: TargetVerdict | None) -> Removal | None:
        if verdict is None or verdict.verdict is Verdict.ALLOWED:
            return None
        if verdict.verdict is Verdict.RESERVED:
            signals = sorted({r.signal for r in verdict.results if r.verdict is Verdict.RESERVED})
            return Removal("signal", "reserved", " ".join(signals), True)
        if not self.drop_unknown:
            return None
        unread = sorted({r.signal for r in verdict.results if r.basis is Basis.ERROR})
        source = "unreadable: " + " ".join(unread) if unread else "no signal states a preference"
        return Removal("signal", "unknown", source, False)


class ChainDecider(Decider):
    """The first decider that removes a row names the reason; later ones see only kept rows."""

    def __init__(self, deciders: Sequence[Decider]) -> None:
        self.deciders = list(deciders)

    def notes(self) -> list[str]:
        return [note for decider in self.deciders for note in decider.notes()]

    def decide(self, columns: Columns) -> list[Removal | None]:
        out: list[Removal | None] = [None] * len(columns)
        for decider in self.deciders:
            pending = [row for row, r in enumerate(out) if r is None or r.flag_only]
            if not pending:
                break
            taken = pa.array(pending, pa.int64())
            subset = Columns(
                pc.take(columns.url, taken),
                *(
                    None if values is None else pc.take(values, taken)
                    for values in (columns.flickr_owner, columns.sha256, columns.md5)
                ),
            )
            for row, removal in zip(pending, decider.decide(subset), strict=True):
                if removal is not None:  # a flagged row stays flagged unless removed
                    out[row] = removal
        return out


def _content_id(dataset: str, content: ContentMatches[Any]) -> str:
    """The run id's part for image matches: what matched, hashed, so a re-fingerprinted
    release or new claims redo the files."""
    matched = hashlib.sha256(repr(sorted(content.by_url.items())).encode()).hexdigest()
    return f":images={dataset}:{content.rows_compared}:{matched[:16]}"


def open_decider(
    settings: Settings,
    registry: str | None,
    *,
    pubkey: str | None = None,
    signals: bool = False,
    count_unverified: bool = False,
    accept_embedded_key: bool = False,
    unknown: str = "keep",
    images_release: str | None = None,
) -> tuple[Decider, str]:
    """The decider for ``--registry`` (None: the home registry; ``http(s)://``: a server's
    bulk API; else a snapshot folder, verified first and refused unless its key is pinned,
    listed in a trusted key list or explicitly accepted) plus ``--signals``, and an id
    naming the claims used (resume redoes files filtered against other claims).
    ``unknown`` (keep or drop) is what ``--signals`` does with rows whose signals are only
    ``unknown``. ``images_release`` (a fingerprinted catalog dataset) lets image claims
    remove the input rows whose URL carries a matching image there (``content``)."""
    if unknown != "keep" and not signals:
        raise InputError("--unknown only applies with --signals")
    decider: Decider
    index: DecisionIndex | None = None
    if registry is None:
        service = RegistryService.open(settings)
        counts = sorted(service.store.claim_counts().items())
        index = service.decision_index()
        registry_id = f"home:{service.store.location}:{counts}"
        service.close()
    elif registry.startswith(("http://", "https://")):
        remote = RemoteDecider(registry, count_unverified=count_unverified)
        if images_release:
            remote.content = remote_image_matches(settings, images_release, remote.check)
            registry_id = f"remote:{registry}" + _content_id(images_release, remote.content)
        else:
            registry_id = f"remote:{registry}"
        decider = remote
    else:
        info, index = load_snapshot_index(
            Path(registry),
            pubkey,
            trusted=TrustedKeys.load(settings),
            accept_embedded_key=accept_embedded_key,
        )
        registry_id = f"snapshot:{info.manifest_sha256}"
    if index is not None:
        content = image_matches(settings, images_release, index) if images_release else None
        decider = IndexDecider(index, count_unverified=count_unverified, content=content)
        if content is not None:
            registry_id += _content_id(images_release or "", content)
    registry_id += f":unverified={count_unverified}"
    if signals:
        decider = ChainDecider([decider, SignalsDecider(settings, unknown)])
        registry_id += f":signals:unknown={unknown}"
    return decider, registry_id
