"""Sign an evidence report and check a signed report file byte for byte.

The file is the canonical JSON (``core.signing.canonical_json``) of
``{"report": body, "signature": {...}}``. The signature covers the canonical JSON of the
body; the file must itself be canonical and the signature block strict (lower-case hex,
matching digest and key fingerprint, no extra fields), so that *any* edited byte makes
verification fail, not only edits that change a value.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from traindex.core.signing import (
    SignatureError,
    Signer,
    canonical_json,
    key_fingerprint,
    load_public_key,
    public_key_hex,
    verify_signature,
)
from traindex.evidence.model import EvidenceReport

__all__ = ["SealedReport", "Signature", "body_digest", "open_document", "open_sealed", "seal"]

_HEX64 = r"^[0-9a-f]{64}$"


class Signature(BaseModel):
    """Who signed the body and how; printed on every rendering of the report."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    algorithm: Literal["Ed25519"] = "Ed25519"
    signed: Literal["sha256 of the canonical JSON of report"] = (
        "sha256 of the canonical JSON of report"
    )
    digest: str = Field(pattern=_HEX64)
    public_key: str = Field(pattern=_HEX64)
    key_fingerprint: str = Field(pattern=r"^[0-9a-f]{16}$")
    value: str = Field(pattern=r"^[0-9a-f]{128}$")


@dataclass(frozen=True)
class SealedReport:
    """A report body with its signature (and RFC 3161 token); ``to_bytes`` is the file.

    The timestamp token covers ``signed_bytes`` (the file without the token), so it
    vouches for the body and the signature together; see ``core.timestamps``. A report
    read from a file keeps its ``body`` exactly as signed: a report made before a field
    was added to the model must still match its token, which the model's re-dump (with
    the new field's default) would not.
    """

    report: EvidenceReport
    signature: Signature
    timestamp: dict[str, str] | None = None
    body: dict[str, Any] | None = None

    def _signed_body(self) -> dict[str, Any]:
        return self.body if self.body is not None else _body(self.report)

    def signed_bytes(self) -> bytes:
        return canonical_json(
            {"report": self._signed_body(), "signature": self.signature.model_dump()}
        )

    def document(self) -> dict[str, Any]:
        document = {"report": self._signed_body(), "signature": self.signature.model_dump()}
        if self.timestamp is not None:
            document["timestamp"] = self.timestamp
        return document

    def to_bytes(self) -> bytes:
        return canonical_json(self.document())


def _body(report: EvidenceReport) -> dict[str, Any]:
    return report.model_dump(mode="json")


def body_digest(report: EvidenceReport) -> str:
    """SHA-256 (hex) of the canonical JSON of the report body."""
    return hashlib.sha256(canonical_json(_body(report))).hexdigest()


def seal(report: EvidenceReport, signer: Signer) -> SealedReport:
    """Sign ``report`` with ``signer`` (Ed25519 over the canonical body)."""
    payload = canonical_json(_body(report))
    signature = Signature(
        digest=hashlib.sha256(payload).hexdigest(),
        public_key=public_key_hex(signer.public_key),
        key_fingerprint=key_fingerprint(signer.public_key),
        value=signer.sign(payload),
    )
    return SealedReport(report, signature)


_TIMESTAMP_FIELDS = {"authority", "time", "token"}


def _timestamp(document: dict[str, Any]) -> dict[str, str] | None:
    record = document.get("timestamp")
    if record is None:
        return None
    if (
        not isinstance(record, dict)
        or set(record) != _TIMESTAMP_FIELDS
        or not all(isinstance(v, str) for v in record.values())
    ):
        raise SignatureError("malformed timestamp block: needs authority, time and token")
    return record


def _parse(data: bytes) -> tuple[dict[str, Any], Signature, dict[str, str] | None]:
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise SignatureError(f"not a JSON report file: {exc}") from exc
    if not isinstance(document, dict) or set(document) - {"timestamp"} != {"report", "signature"}:
        raise SignatureError(
            "a signed report has the fields 'report' and 'signature' (and maybe 'timestamp')"
        )
    if canonical_json(document) != data:
        raise SignatureError("file is not in canonical form: bytes were added, removed or edited")
    try:
        signature = Signature.model_validate(document["signature"])
    except ValidationError as exc:
        raise SignatureError(f"malformed signature block: {exc.errors()[0]['msg']}") from exc
    return document["report"], signature, _timestamp(document)


def open_document(
    document: dict[str, Any], public_key: str | Ed25519PublicKey | None = None
) -> SealedReport:
    """``open_sealed`` for a report already parsed from JSON (e.g. an API request body)."""
    try:
        data = canonical_json(document)
    except (TypeError, ValueError) as exc:
        raise SignatureError(f"not a signed report: {exc}") from exc
    return open_sealed(data, public_key)


def open_sealed(data: bytes, public_key: str | Ed25519PublicKey | None = None) -> SealedReport:
    """Verify a signed report file and return it; raise ``SignatureError`` saying why not.

    Without ``public_key`` the key embedded in the file is used: that proves the file is
    intact, not who signed it; pass the signer's published key to prove that too.
    """
    body, signature, timestamp = _parse(data)
    payload = canonical_json(body)
    if hashlib.sha256(payload).hexdigest() != signature.digest:
        raise SignatureError("report body does not match its recorded digest: it was edited")
    embedded = load_public_key(signature.public_key)
    if key_fingerprint(embedded) != signature.key_fingerprint:
        raise SignatureError("key fingerprint does not belong to the embedded public key")
    key = load_public_key(public_key) if isinstance(public_key, str) else public_key
    if key is not None and public_key_hex(key) != signature.public_key:
        raise SignatureError(
            f"signed by key {signature.key_fingerprint}, not by the given key "
            f"{key_fingerprint(key)}"
        )
    verify_signature(key or embedded, payload, signature.value)
    try:
        report = EvidenceReport.model_validate(body)
    except ValidationError as exc:
        raise SignatureError(f"signature is valid but the body is not a report: {exc}") from exc
    return SealedReport(report, signature, timestamp, body)
