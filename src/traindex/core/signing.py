"""Ed25519 keys and signatures over canonical JSON: one implementation for every signed output.

Registry snapshots and evidence reports are both "a JSON document someone else must be able
to check byte for byte", so they share the canonical form (sorted keys, no whitespace, UTF-8)
and the key handling here. The private key lives in the home dir with mode 0600 and is made on
first use; the public key is exchanged as 64 hex characters (``traindex keys show``).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from traindex.errors import TraindexError

__all__ = [
    "SignatureError",
    "Signer",
    "canonical_json",
    "file_sha256",
    "key_fingerprint",
    "load_or_create_signer",
    "load_public_key",
    "public_key_hex",
    "verify_signature",
]

PRIVATE_KEY_FILE = "ed25519.key"


class SignatureError(TraindexError):
    """A signature, key or signed document does not check out; the message says which."""


def canonical_json(value: Any) -> bytes:
    """The one byte form that gets signed: sorted keys, compact, UTF-8, no NaN."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def file_sha256(path: Path) -> str:
    """SHA-256 (hex) of a file, read in 1 MiB chunks (snapshot files, dataset files)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def public_key_hex(key: Ed25519PublicKey) -> str:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def key_fingerprint(key: Ed25519PublicKey) -> str:
    """Short, printable identity of a public key: SHA-256 of its raw bytes, first 16 hex."""
    return hashlib.sha256(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()[:16]


@dataclass(frozen=True)
class Signer:
    """A private key plus where it came from (so outputs can say which key signed them)."""

    private_key: Ed25519PrivateKey
    path: Path | None

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    def sign(self, payload: bytes) -> str:
        return self.private_key.sign(payload).hex()


def load_or_create_signer(keys_dir: Path) -> Signer:
    """Read ``keys_dir/ed25519.key`` (32 raw bytes, hex) or create it with mode 0600."""
    path = keys_dir / PRIVATE_KEY_FILE
    if path.exists():
        try:
            stored = bytes.fromhex(path.read_text(encoding="ascii").strip())
            return Signer(Ed25519PrivateKey.from_private_bytes(stored), path)
        except (ValueError, UnicodeDecodeError) as exc:
            raise SignatureError(f"private key file {path} is not 32 hex-encoded bytes") from exc
    keys_dir.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    encoded = key.private_bytes_raw().hex()
    # O_EXCL + 0600 at creation: the key is never readable by others, not even briefly.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(encoded + "\n")
    return Signer(key, path)


def load_public_key(text: str) -> Ed25519PublicKey:
    """Parse a public key given as 64 hex characters, or a file that holds them."""
    candidate = text.strip()
    if len(candidate) != 64 and Path(candidate).is_file():
        candidate = Path(candidate).read_text(encoding="ascii").strip()
    try:
        return Ed25519PublicKey.from_public_bytes(bytes.fromhex(candidate))
    except ValueError as exc:
        raise SignatureError(
            "public key must be 64 hex characters (traindex keys show) or a file holding them"
        ) from exc


def verify_signature(public_key: Ed25519PublicKey, payload: bytes, signature_hex: str) -> None:
    """Raise ``SignatureError`` unless ``signature_hex`` signs ``payload`` under the key."""
    try:
        public_key.verify(bytes.fromhex(signature_hex), payload)
    except (InvalidSignature, ValueError) as exc:
        raise SignatureError(
            f"signature does not match (key {key_fingerprint(public_key)})"
        ) from exc
