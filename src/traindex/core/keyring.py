"""The operator's keys: one Ed25519 identity at a time, its PDF certificate, and the key list.

The Ed25519 key (``core.signing``) seals JSON reports and registry snapshots. PDF readers
do not reliably check Ed25519 signatures in PDFs (ISO 32002 added EdDSA in 2022 and most
readers still reject it), so each Ed25519 key gets an ECDSA P-256 key with a self-signed
X.509 certificate for PAdES signatures. The certificate names the Ed25519 fingerprint in
its subject, and the Ed25519 key signs a *binding* (fingerprint + certificate SHA-256), so
a PDF signature and a JSON seal provably come from the same operator identity.

``keys.json`` lists every key this operator ever used (current and rotated), with its
certificate and binding; it is what ``/.well-known/traindex-keys.json`` publishes and what
"trusted key" answers read. Rotation retires the current key (its private key moves to
``retired/``, mode 0600) and makes a new one; old reports still verify against the list.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from traindex.core.signing import (
    PRIVATE_KEY_FILE,
    SignatureError,
    Signer,
    canonical_json,
    key_fingerprint,
    load_or_create_signer,
    load_public_key,
    public_key_hex,
    verify_signature,
)

__all__ = [
    "KEYLIST_FORMAT",
    "KeyEntry",
    "Keyring",
    "PdfIdentity",
    "check_key_list",
    "make_pdf_identity",
]

KEYLIST_FORMAT = "traindex-keys/1"
KEYLIST_FILE = "keys.json"
PDF_KEY_FILE, PDF_CERT_FILE = "pdf-signing.key", "pdf-signing.crt"
_CERT_YEARS = 10


@dataclass(frozen=True, slots=True)
class PdfIdentity:
    """The certificate and private key (PEM) that sign PDFs for one operator key."""

    certificate_pem: bytes
    private_key_pem: bytes

    @property
    def certificate_sha256(self) -> str:
        cert = x509.load_pem_x509_certificate(self.certificate_pem)
        return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


@dataclass(frozen=True, slots=True)
class KeyEntry:
    """One operator key as published: when it was used and what it vouches for."""

    public_key: str
    fingerprint: str
    created_at: str
    retired_at: str | None
    pdf_certificate: str
    pdf_certificate_sha256: str
    binding: str

    def to_json(self) -> dict[str, Any]:
        return {"algorithm": "Ed25519", **{k: getattr(self, k) for k in self.__slots__}}


def _binding_payload(fingerprint: str, cert_sha256: str) -> bytes:
    return canonical_json({"fingerprint": fingerprint, "pdf_certificate_sha256": cert_sha256})


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def make_pdf_identity(fingerprint: str, now: datetime) -> PdfIdentity:
    """A P-256 key and a self-signed certificate naming the Ed25519 ``fingerprint``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"traindex operator {fingerprint}"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"Ed25519 key {fingerprint}"),
        ]
    )
    usage = x509.KeyUsage(True, True, False, False, False, False, False, False, False)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=365 * _CERT_YEARS))
        .add_extension(usage, critical=True)
        .sign(key, hashes.SHA256())
    )
    return PdfIdentity(
        cert.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


class Keyring:
    """The keys in ``<home>/keys``: current signer, PDF identity, and the published list.

    Creation and rotation hold an exclusive lock on ``keys.lock``: server threads and
    processes that sign for the first time at once must end up with one key, not race.
    """

    def __init__(self, keys_dir: Path) -> None:
        self.dir = keys_dir

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.dir.mkdir(parents=True, exist_ok=True)
        with (self.dir / "keys.lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @property
    def signer(self) -> Signer:
        """The current Ed25519 signer (created once), listed in ``keys.json``."""
        with self._locked():
            signer = load_or_create_signer(self.dir)
            self._ensure_listed(signer)
        return signer

    def pdf_identity(self) -> PdfIdentity:
        """The current key's PDF certificate and key (created with the key, once)."""
        self.signer  # noqa: B018  # creates key, certificate and list entry on first use
        return PdfIdentity(
            (self.dir / PDF_CERT_FILE).read_bytes(), (self.dir / PDF_KEY_FILE).read_bytes()
        )

    def entries(self) -> list[KeyEntry]:
        """Every listed key, oldest first; empty if this home never signed anything."""
        path = self.dir / KEYLIST_FILE
        if not path.exists():
            return []
        return check_key_list(json.loads(path.read_text(encoding="utf-8")))

    def document(self) -> dict[str, Any]:
        """The published key list (``/.well-known/traindex-keys.json``)."""
        self.signer  # noqa: B018
        return {"format": KEYLIST_FORMAT, "keys": [e.to_json() for e in self.entries()]}

    def rotate(self, now: datetime | None = None) -> tuple[KeyEntry, KeyEntry]:
        """Retire the current key and make a new one; returns (retired, new) entries."""
        when = now or datetime.now(UTC)
        fingerprint = key_fingerprint(self.signer.public_key)
        with self._locked():
            retired = self.dir / "retired"
            retired.mkdir(mode=0o700, exist_ok=True)
            for name in (PRIVATE_KEY_FILE, PDF_KEY_FILE, PDF_CERT_FILE):
                os.replace(self.dir / name, retired / f"{fingerprint}.{name}")
            entries = [
                _replace(e, retired_at=when.isoformat()) if e.fingerprint == fingerprint else e
                for e in self.entries()
            ]
            self._save(entries)
        new = self.signer
        listed = {e.fingerprint: e for e in self.entries()}
        return listed[fingerprint], listed[key_fingerprint(new.public_key)]

    def _ensure_listed(self, signer: Signer) -> None:
        fingerprint = key_fingerprint(signer.public_key)
        entries = self.entries()
        if any(e.fingerprint == fingerprint for e in entries):
            return
        now = datetime.now(UTC)
        if not (self.dir / PDF_CERT_FILE).exists():
            identity = make_pdf_identity(fingerprint, now)
            _write_private(self.dir / PDF_KEY_FILE, identity.private_key_pem)
            (self.dir / PDF_CERT_FILE).write_bytes(identity.certificate_pem)
        identity = PdfIdentity((self.dir / PDF_CERT_FILE).read_bytes(), b"")
        cert_sha = identity.certificate_sha256
        entry = KeyEntry(
            public_key=public_key_hex(signer.public_key),
            fingerprint=fingerprint,
            created_at=now.isoformat(),
            retired_at=None,
            pdf_certificate=identity.certificate_pem.decode("ascii"),
            pdf_certificate_sha256=cert_sha,
            binding=signer.sign(_binding_payload(fingerprint, cert_sha)),
        )
        self._save([*entries, entry])

    def _save(self, entries: list[KeyEntry]) -> None:
        doc = {"format": KEYLIST_FORMAT, "keys": [e.to_json() for e in entries]}
        tmp = self.dir / (KEYLIST_FILE + ".tmp")
        tmp.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, self.dir / KEYLIST_FILE)


def _replace(entry: KeyEntry, **changes: Any) -> KeyEntry:
    data = {k: getattr(entry, k) for k in entry.__slots__}
    return KeyEntry(**{**data, **changes})


def check_key_list(document: Any) -> list[KeyEntry]:
    """Parse a published key list; each entry's fingerprint and binding must check out."""
    if not isinstance(document, dict) or document.get("format") != KEYLIST_FORMAT:
        raise SignatureError(f"not a {KEYLIST_FORMAT} key list")
    entries: list[KeyEntry] = []
    for raw in document.get("keys", []):
        try:
            entry = KeyEntry(**{k: raw[k] for k in KeyEntry.__slots__})
        except (KeyError, TypeError) as exc:
            raise SignatureError(f"key list entry lacks a field: {exc}") from None
        key = load_public_key(entry.public_key)
        if key_fingerprint(key) != entry.fingerprint:
            raise SignatureError(f"key list: fingerprint {entry.fingerprint} is not its key's")
        cert = PdfIdentity(entry.pdf_certificate.encode("ascii"), b"").certificate_sha256
        if cert != entry.pdf_certificate_sha256:
            raise SignatureError(f"key list: certificate of {entry.fingerprint} was changed")
        verify_signature(key, _binding_payload(entry.fingerprint, cert), entry.binding)
        entries.append(entry)
    return entries
