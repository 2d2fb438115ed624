"""Verify a signed report the way every adapter answers: intact, whose key, which time.

``open_sealed`` proves the bytes are intact under the key they name. This adds the two
answers a recipient needs before acting on a report: whether that key is trusted
(``core.trust``: pinned, this server's current or rotated key, a configured key list) and
which timestamp authority vouched for which time (``core.timestamps``), or that the time
is only the signing machine's clock. Each download proof in it (a candidate verified by
download) gets the same answer for its own RFC 3161 token (``core.proofs``): which
authority vouched for which time, or that the fetch time is the machine's clock. The CLI,
the API and letters all call ``check_report``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asn1crypto.x509 import Certificate

from traindex.config import Settings
from traindex.core.proofs import PROOF_CLOCK, proof_content
from traindex.core.signing import SignatureError
from traindex.core.timestamps import (
    MACHINE_CLOCK,
    TimestampCheck,
    check_timestamp,
    load_tsa_certificates,
)
from traindex.core.trust import KeyTrust, TrustedKeys
from traindex.evidence.model import EvidenceMatch
from traindex.evidence.pades import PdfSignatureCheck, check_pdf_signature
from traindex.evidence.seal import SealedReport, open_document, open_sealed

__all__ = [
    "ProofCheck",
    "ReportCheck",
    "TrustOptions",
    "check_document",
    "check_pdf",
    "check_report",
]


@dataclass(frozen=True)
class TrustOptions:
    """What the caller trusts beyond this home's keys and the configured lists."""

    pubkey: str | None = None
    accept_embedded_key: bool = False
    key_lists: list[Path] = field(default_factory=list)
    tsa_certificates: list[Path] = field(default_factory=list)


@dataclass(frozen=True)
class ProofCheck:
    """One row's download proof and the check of its own timestamp token (if any)."""

    match: EvidenceMatch
    timestamp: TimestampCheck | None

    @property
    def where(self) -> str:
        m = self.match
        return f"{m.dataset}/{m.release} {m.source_file} row {m.row}"

    def describe(self) -> str:
        proof = self.match.download_proof
        assert proof is not None
        fetched = f"download proof of {self.where}: {proof.url} fetched at {proof.fetched_at}"
        if self.timestamp is None:
            return f"{fetched}; {PROOF_CLOCK}"
        return f"{fetched} (machine clock); proof {self.timestamp.describe()}"

    def to_json(self) -> dict[str, Any]:
        proof = self.match.download_proof
        assert proof is not None
        m = self.match
        return {
            "dataset": m.dataset, "release": m.release, "source_file": m.source_file,
            "row": m.row, "url": proof.url, "fetched_at": proof.fetched_at,
            "timestamp": self.timestamp.to_json() if self.timestamp else None,
            "time": self.describe(),
        }  # fmt: skip


@dataclass(frozen=True)
class ReportCheck:
    """An intact report, whether its key is trusted, its timestamp (if any), and the
    timestamps of its download proofs."""

    sealed: SealedReport
    key: KeyTrust
    timestamp: TimestampCheck | None
    proofs: list[ProofCheck] = field(default_factory=list)

    @property
    def time_statement(self) -> str:
        return self.timestamp.describe() if self.timestamp else MACHINE_CLOCK

    def to_json(self) -> dict[str, Any]:
        signature = self.sealed.signature
        return {
            "valid": self.key.trusted,
            "intact": True,
            "trusted": self.key.trusted,
            "key_source": self.key.source,
            "digest": signature.digest,
            "key_fingerprint": signature.key_fingerprint,
            "timestamp": self.timestamp.to_json() if self.timestamp else None,
            "time": self.time_statement,
            "download_proofs": [proof.to_json() for proof in self.proofs],
        }


def _judge(sealed: SealedReport, settings: Settings, options: TrustOptions) -> ReportCheck:
    trusted = TrustedKeys.load(settings, options.key_lists)
    signature = sealed.signature
    key = trusted.judge(
        signature.public_key,
        signature.key_fingerprint,
        pinned=options.pubkey,
        accept_embedded=options.accept_embedded_key,
    )
    certs = load_tsa_certificates([*settings.tsa_certificates, *options.tsa_certificates])
    stamp = None
    if sealed.timestamp is not None:
        stamp = check_timestamp(sealed.timestamp, sealed.signed_bytes(), certs)
    return ReportCheck(sealed, key, stamp, _proofs(sealed, certs))


def _proofs(sealed: SealedReport, certs: list[Certificate]) -> list[ProofCheck]:
    """Check every download proof's token over the proof's own fields; a token about
    other fields, or (with ``certs``) by an untrusted authority, fails the report."""
    checks = []
    for match in sealed.report.matches:
        proof = match.download_proof
        if proof is None:
            continue
        check = ProofCheck(match, None)
        if proof.timestamp is not None:
            content = proof_content(proof.model_dump())
            try:
                check = ProofCheck(match, check_timestamp(proof.timestamp, content, certs))
            except SignatureError as exc:
                raise SignatureError(f"download proof of {check.where}: {exc}") from None
        checks.append(check)
    return checks


def check_report(data: bytes, settings: Settings, options: TrustOptions) -> ReportCheck:
    """Verify a report file; ``SignatureError`` if edited, mis-signed or wrongly stamped."""
    return _judge(open_sealed(data, options.pubkey), settings, options)


def check_document(
    document: dict[str, Any], settings: Settings, options: TrustOptions
) -> ReportCheck:
    """``check_report`` for a report already parsed from JSON (an API request body)."""
    return _judge(open_document(document, options.pubkey), settings, options)


def check_pdf(
    data: bytes, settings: Settings, options: TrustOptions
) -> tuple[PdfSignatureCheck, str]:
    """Validate a report PDF's PAdES signature against every PDF certificate a trusted key
    list names (this home's, ``trusted_keys``, ``options.key_lists``); the first that
    validates it wins. ``SignatureError`` if none does."""
    trusted = TrustedKeys.load(settings, options.key_lists)
    paths = [*settings.tsa_certificates, *options.tsa_certificates]
    tsa = b"".join(path.read_bytes() for path in paths) or None
    checks = []
    for certificate, source in trusted.certificates.items():
        check = check_pdf_signature(data, certificate.encode("ascii"), tsa)
        if check.ok:
            return check, source
        checks.append(check)
    if any(not c.intact for c in checks):
        raise SignatureError("the PDF was changed after it was signed")
    raise SignatureError(
        "the PDF's signature is not by a certificate in a trusted key list "
        "(this server's, trusted_keys or --keys)"
    )
