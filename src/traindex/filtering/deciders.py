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

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from traindex.config import Settings
from traindex.core.trust import TrustedKeys
from traindex.errors import InputError
from traindex.filtering.content import ContentMatches, iscc_matches
from traindex.registry.client import RegistryClient
from traindex.registry.decisions import DecisionIndex, Matches
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
    claim ids or the signals that decided; ``verified`` tells verified claims apart."""

    reason: str
    decision: str
    source: str
    verified: bool


class Decider(ABC):
    """Decides a batch of rows."""

    @abstractmethod
    def decide(self, columns: Columns) -> list[Removal | None]:
        """Per row, ``None`` to keep it or the ``Removal`` that drops it."""


class IndexDecider(Decider):
    """Decisions from an in-process ``DecisionIndex`` (home registry or verified snapshot)."""

    def __init__(
        self,
        index: DecisionIndex,
        *,
        count_unverified: bool = False,
        content: dict[str, Matches] | None = None,
    ) -> None:
        self.index = index
        self.count_unverified = count_unverified
        self.content = content or {}  # URL -> ISCC claims (``filtering.content``)
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
        if self.content:
            self._merge_content(found, columns.url)
        now = datetime.now(UTC)
        # Rows under one claimed domain share one Matches tuple: decide each tuple once.
        memo: dict[Matches, Removal | None] = {}
        out: list[Removal | None] = [None] * len(columns)
        for row, ids in found.items():
            if ids not in memo:
                memo[ids] = self._removal(ids, now)
            out[row] = memo[ids]
        return out

    def _merge_content(self, found: dict[int, Matches], urls: pa.Array) -> None:
        claimed = pa.array(list(self.content), pa.string())
        rows = pc.indices_nonzero(pc.fill_null(pc.is_in(urls, value_set=claimed), False))
        for row, url in zip(rows.to_pylist(), pc.take(urls, rows).to_pylist(), strict=True):
            found[row] = found.get(row, ()) + self.content[url]

    def _removal(self, ids: Matches, now: datetime) -> Removal | None:
        decision = self.index.resolve("", ids, count_unverified=self.count_unverified, now=now)
        if decision.decision != "do_not_train":
            return None
        return Removal("claim", decision.decision, " ".join(decision.claim_ids), decision.verified)


def _merge(found: dict[int, Matches], more: list[Matches]) -> None:
    for row, ids in enumerate(more):
        if ids:
            found[row] = found.get(row, ()) + ids


class RemoteDecider(Decider):
    """Decisions from a registry server's bulk check API (``POST /api/registry/check``).

    ``content`` maps URLs to the removal their ISCC-matched image got from the same server
    (``filtering.content``, made once before the run), as ``IndexDecider`` does locally.
    """

    def __init__(
        self,
        base_url: str,
        *,
        count_unverified: bool = False,
        timeout: float = 60,
        content: dict[str, Removal] | None = None,
    ) -> None:
        self.client = RegistryClient(base_url, timeout=timeout)
        self.endpoint = self.client.endpoint
        self.count_unverified = count_unverified
        self.content = content or {}

    def __reduce__(self) -> tuple[object, ...]:
        # a Ray filter task gets its own HTTP client (a client's sockets do not pickle)
        args = (self.client.base_url, self.count_unverified, self.client.timeout, self.content)
        return (_remote_decider, args)

    def removals(self, items: list[str]) -> list[Removal | None]:
        """Per item, the removal a ``do_not_train`` decision makes (else ``None``)."""
        decisions = self.client.check(items, count_unverified=self.count_unverified)
        return [
            Removal("claim", "do_not_train", " ".join(d.claim_ids), d.verified)
            if d.decision == "do_not_train"
            else None
            for d in decisions
        ]

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
        for row, removal in zip(owners, self.removals(items), strict=True):
            if removal is not None and out[row] is None:
                out[row] = removal
        if self.content:
            for row, url in enumerate(columns.url.to_pylist()):
                if out[row] is None and url in self.content:
                    out[row] = self.content[url]
        return out


def _remote_decider(
    base_url: str, count_unverified: bool, timeout: float, content: dict[str, Removal]
) -> RemoteDecider:
    return RemoteDecider(
        base_url, count_unverified=count_unverified, timeout=timeout, content=content
    )


def _remote_content(decider: RemoteDecider, bodies: Sequence[str]) -> list[Removal | None]:
    """The server's removal for each Image-Code body (each distinct body asked once)."""
    distinct = list(dict.fromkeys(bodies))
    removals = dict(zip(distinct, decider.removals([f"iscc:{b}" for b in distinct]), strict=True))
    return [removals[b] for b in bodies]


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

    def decide(self, columns: Columns) -> list[Removal | None]:
        out: list[Removal | None] = [None] * len(columns)
        for decider in self.deciders:
            pending = [row for row, removal in enumerate(out) if removal is None]
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
                out[row] = removal
        return out


def _registry_decider(
    settings: Settings,
    registry: str | None,
    *,
    pubkey: str | None,
    count_unverified: bool,
    accept_embedded_key: bool,
) -> tuple[IndexDecider | RemoteDecider, str]:
    """The registry's decider (no ISCC content yet) and the id of the claims it uses."""
    if registry is not None and registry.startswith(("http://", "https://")):
        return RemoteDecider(registry, count_unverified=count_unverified), f"remote:{registry}"
    if registry is None:
        service = RegistryService.open(settings)
        counts = sorted(service.store.claim_counts().items())
        index = service.decision_index()
        registry_id = f"home:{service.store.engine.url.render_as_string()}:{counts}"
        service.close()
    else:
        info, index = load_snapshot_index(
            Path(registry),
            pubkey,
            trusted=TrustedKeys.load(settings),
            accept_embedded_key=accept_embedded_key,
        )
        registry_id = f"snapshot:{info.manifest_sha256}"
    return IndexDecider(index, count_unverified=count_unverified), registry_id


def _add_content(settings: Settings, decider: IndexDecider | RemoteDecider, dataset: str) -> str:
    """Give ``decider`` the URLs whose image in ``dataset`` matches an ISCC claim (asked of
    the same registry, local or remote); the id part naming what was matched."""
    if isinstance(decider, RemoteDecider):
        remote = decider
        found = iscc_matches(settings, dataset, lambda bodies: _remote_content(remote, bodies))
        remote.content = {
            url: removal for url, (removal, *_) in found.by_url.items() if removal is not None
        }
        return _content_id(dataset, found)
    index = decider.index
    matched = iscc_matches(settings, dataset, lambda b: index.match_hashes("iscc", b))
    decider.content = {url: sum(ids, ()) for url, ids in matched.by_url.items()}
    return _content_id(dataset, matched)


def _content_id(dataset: str, found: ContentMatches[Any]) -> str:
    return f":iscc={dataset}:{found.rows_with_iscc}:{len(found.by_url)}"


def open_decider(
    settings: Settings,
    registry: str | None,
    *,
    pubkey: str | None = None,
    signals: bool = False,
    count_unverified: bool = False,
    accept_embedded_key: bool = False,
    unknown: str = "keep",
    iscc_release: str | None = None,
) -> tuple[Decider, str]:
    """The decider for ``--registry`` (None: the home registry; ``http(s)://``: a server's
    bulk API; else a snapshot folder, verified first and refused unless its key is pinned,
    listed in a trusted key list or explicitly accepted) plus ``--signals``, and an id
    naming the claims used (resume redoes files filtered against other claims).
    ``unknown`` (keep or drop) is what ``--signals`` does with rows whose signals are only
    ``unknown``. ``iscc_release`` (a catalog dataset fingerprinted with ``--iscc``) lets
    ISCC-bound claims remove the input rows whose URL carries a matching image there."""
    if unknown != "keep" and not signals:
        raise InputError("--unknown only applies with --signals")
    registry_decider, registry_id = _registry_decider(
        settings, registry, pubkey=pubkey, count_unverified=count_unverified,
        accept_embedded_key=accept_embedded_key,
    )  # fmt: skip
    if iscc_release:
        registry_id += _add_content(settings, registry_decider, iscc_release)
    registry_id += f":unverified={count_unverified}"
    decider: Decider = registry_decider
    if signals:
        decider = ChainDecider([decider, SignalsDecider(settings, unknown)])
        registry_id += f":signals:unknown={unknown}"
    return decider, registry_id
