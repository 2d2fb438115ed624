"""PAdES signatures on report PDFs (pyHanko), so any PDF reader can check the evidence.

The signing certificate is the operator's: by default the self-signed P-256 certificate
made with the Ed25519 key (``core.keyring``; it names that key's fingerprint, as the JSON
seal does), or a certificate + key the operator configures (``pdf_certificate``,
``pdf_private_key``), e.g. one issued by a CA a court's reader already trusts. With a
timestamp authority configured the signature carries an RFC 3161 token (PAdES B-T);
checking it names the authority and whether the reader trusts it, as for JSON reports.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from asn1crypto.x509 import Certificate

from traindex.config import Settings
from traindex.core.keyring import Keyring, PdfIdentity
from traindex.core.signing import SignatureError
from traindex.core.timestamps import load_certificates_data

__all__ = ["PdfSignatureCheck", "PdfSigning", "check_pdf_signature", "sign_pdf"]


@dataclass(frozen=True, slots=True)
class PdfSigning:
    """What signs PDFs: the identity, and the timestamp authority (None: no token)."""

    identity: PdfIdentity
    tsa_url: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings, keyring: Keyring) -> PdfSigning:
        if (settings.pdf_certificate is None) != (settings.pdf_private_key is None):
            raise SignatureError("set both pdf_certificate and pdf_private_key, or neither")
        if settings.pdf_certificate is not None and settings.pdf_private_key is not None:
            identity = PdfIdentity(
                settings.pdf_certificate.read_bytes(), settings.pdf_private_key.read_bytes()
            )
        else:
            identity = keyring.pdf_identity()
        return cls(identity, settings.tsa_url)


def sign_pdf(pdf: bytes, signing: PdfSigning, *, reason: str, fingerprint: str) -> bytes:
    """``pdf`` with one approval signature (PAdES baseline) over the whole file."""
    from pyhanko.keys import load_private_key_from_pemder_data
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.sign.timestamps.aiohttp_client import HTTPTimeStamper
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    [cert] = load_certificates_data(signing.identity.certificate_pem)
    key = load_private_key_from_pemder_data(signing.identity.private_key_pem, passphrase=None)
    store = SimpleCertificateStore()  # type: ignore[no-untyped-call]
    store.register(cert)
    signer = signers.SimpleSigner(cert, key, store)
    meta = signers.PdfSignatureMetadata(
        field_name="traindex-evidence",
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        name=f"traindex operator key {fingerprint}",
    )
    timestamper = HTTPTimeStamper(signing.tsa_url) if signing.tsa_url else None
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    out: io.BytesIO = signers.sign_pdf(writer, meta, signer=signer, timestamper=timestamper)
    return out.getvalue()


@dataclass(frozen=True, slots=True)
class PdfSignatureCheck:
    """pyHanko's verdict on a PDF's signature: intact, whole file, signer, timestamp."""

    intact: bool
    valid: bool
    trusted: bool
    covers_whole_file: bool
    signer: str
    timestamp: str | None
    timestamp_authority: str | None = None
    timestamp_trusted: bool = False

    @property
    def ok(self) -> bool:
        return self.intact and self.valid and self.trusted and self.covers_whole_file

    def describe_time(self) -> str:
        """Which authority vouched for which signing time, or that none did."""
        if self.timestamp is None:
            return "no timestamp in the signature: its signing time is the signing machine's clock"
        trust = (
            "a trusted authority" if self.timestamp_trusted else "an authority you have not trusted"
        )
        return f"timestamped {self.timestamp} by {self.timestamp_authority} ({trust})"


def _token_certificates(embedded: Any) -> list[Certificate]:
    """The certificates the signature's own timestamp token carries (its TSA's)."""
    from pyhanko.sign.validation.generic_cms import extract_tst_data_iter

    return [
        cert.chosen
        for signed in extract_tst_data_iter(embedded.signer_info, signed=False)
        for cert in signed["certificates"] or []
    ]


def check_pdf_signature(
    pdf: bytes, trusted_certificate_pem: bytes, tsa_certificate_pem: bytes | None = None
) -> PdfSignatureCheck:
    """Validate the PDF's (single) signature with pyHanko against a trusted certificate
    (and its embedded timestamp against a trusted authority's certificate, if given)."""
    from pyhanko.pdf_utils.misc import PdfReadError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko_certvalidator import ValidationContext

    roots = load_certificates_data(trusted_certificate_pem)
    try:
        reader = PdfFileReader(io.BytesIO(pdf))
        [embedded] = reader.embedded_signatures
        # No TSA trusted: check the token is intact by its own certificate (as the JSON
        # report's), and say its authority is not one the reader has trusted.
        stamps = (
            load_certificates_data(tsa_certificate_pem)
            if tsa_certificate_pem
            else _token_certificates(embedded) or roots
        )
        status = validate_pdf_signature(
            embedded,
            ValidationContext(trust_roots=roots, allow_fetching=False),
            ValidationContext(trust_roots=stamps, allow_fetching=False),
        )
    except (PdfReadError, SignatureValidationError, ValueError) as exc:
        raise SignatureError(f"PDF signature cannot be checked: {exc}") from exc
    stamp = status.timestamp_validity
    stamp_ok = stamp is None or (stamp.intact and stamp.valid and stamp.trusted)
    return PdfSignatureCheck(
        intact=status.intact,
        valid=status.valid,
        trusted=status.trusted and stamp_ok,
        covers_whole_file=status.coverage is not None and status.coverage.name == "ENTIRE_FILE",
        signer=status.signing_cert.subject.human_friendly,
        timestamp=stamp.timestamp.isoformat() if stamp is not None else None,
        timestamp_authority=stamp.signing_cert.subject.human_friendly if stamp else None,
        timestamp_trusted=stamp is not None and tsa_certificate_pem is not None,
    )
