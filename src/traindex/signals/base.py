"""The shape every opt-out signal checker shares.

A checker looks at one ``Resource`` (the bytes and headers of a URL, or a local file) and,
when it needs site-wide files such as ``/robots.txt``, asks the shared ``Fetcher`` through
the ``CheckContext``. It answers with one ``CheckResult`` that carries its own evidence: which
file, header line, XMP field or manifest assertion decided, the raw value, when it was read
and for which crawler token. Results never collapse to a bare bool, because reports, filters
and letters are built from the evidence, and because "could not read" must stay visibly
different from "allowed".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from traindex.signals.fetch import Fetcher

__all__ = [
    "Basis",
    "CheckContext",
    "CheckResult",
    "Resource",
    "SignalChecker",
    "Verdict",
]


class Verdict(StrEnum):
    """What one signal (or the combination) says about AI training / TDM use."""

    RESERVED = "reserved"
    ALLOWED = "allowed"
    UNKNOWN = "unknown"


class Basis(StrEnum):
    """Why a signal has its verdict; the combiner needs this to keep ``unknown`` honest.

    ``statement``: the source says so explicitly. ``default``: the source was read and its
    protocol's default applies (robots.txt 404, no matching rule). ``absent``: the signal is
    simply not there (no XMP, no manifest, no TDMRep rule) - always ``unknown``. ``error``:
    the source could not be read or understood - always ``unknown``, and it keeps the combined
    verdict from becoming ``allowed``.
    """

    STATEMENT = "statement"
    DEFAULT = "default"
    ABSENT = "absent"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One signal's verdict with its evidence.

    ``source`` names the exact place (file URL and group, header line, XMP field, manifest
    assertion); ``raw`` is the value found there, or the raw failure (``HTTP 503``) for errors;
    ``reason`` is one sentence a user can read; ``user_agent`` is the crawler token that was
    evaluated (or that decided, when several were).
    """

    signal: str
    verdict: Verdict
    basis: Basis
    source: str
    raw: str | None
    reason: str
    fetched_at: datetime | None = None
    user_agent: str | None = None

    def __post_init__(self) -> None:
        if self.basis in (Basis.ABSENT, Basis.ERROR) and self.verdict is not Verdict.UNKNOWN:
            raise ValueError(f"a {self.basis} result must be unknown, got {self.verdict}")

    def to_json(self) -> dict[str, str | None]:
        """The public JSON shape: exactly signal, verdict, source, raw, fetched_at."""
        return {
            "signal": self.signal,
            "verdict": self.verdict.value,
            "source": self.source,
            "raw": self.raw,
            "fetched_at": self.fetched_at.isoformat() if self.fetched_at else None,
        }


@dataclass(frozen=True, slots=True)
class Resource:
    """What was read for one target: a URL's own response or a local file's bytes.

    ``headers`` keeps every header instance in order (several ``X-Robots-Tag`` lines matter).
    ``complete`` is false when the body was cut at the size limit, so parsers that need the
    whole file (C2PA) can say ``unknown`` instead of guessing. ``error`` is set when the
    resource itself could not be fetched; header/body checkers then report ``unknown``.
    """

    target: str
    source: str
    url: str | None
    headers: tuple[tuple[str, str], ...]
    body: bytes
    content_type: str
    fetched_at: datetime | None
    complete: bool = True
    error: str | None = None

    def header_values(self, name: str) -> list[str]:
        """Every value of header ``name`` (case-insensitive), in received order."""
        wanted = name.lower()
        return [value for key, value in self.headers if key.lower() == wanted]


@dataclass(frozen=True, slots=True)
class CheckContext:
    """What a checker may use besides the resource.

    ``agents`` are the crawler product tokens to evaluate (bare tokens such as ``GPTBot``;
    RFC 9309 matching needs the token, not a full User-Agent string). ``fetcher`` is absent
    for local files. ``noindex_reserves`` makes ``noindex``/``noimageindex``/``none`` count
    as a reservation, as img2dataset does by default. ``c2pa_trust_anchors`` is the PEM text
    of the configured C2PA trust list (``None``: no signer is trusted).
    """

    agents: tuple[str, ...]
    fetcher: Fetcher | None = None
    noindex_reserves: bool = False
    c2pa_trust_anchors: str | None = None


class SignalChecker(Protocol):
    """One machine-readable opt-out signal.

    ``check`` returns one result, or ``None`` when the signal cannot occur on this kind of
    resource (HTML meta on a JPEG, C2PA on a web page); ``None`` is left out of reports,
    whereas ``unknown`` is shown. Checkers never raise for bad remote input: every failure
    becomes an ``unknown`` result with ``Basis.ERROR`` and a reason.
    """

    signal: str

    async def check(self, resource: Resource, context: CheckContext) -> CheckResult | None:
        """Evaluate the signal for ``resource``."""
        ...
