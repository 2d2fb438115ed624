"""Signed offline snapshots of the registry: what a builder downloads once and filters with.

Layout of a snapshot directory::

    claims.parquet   every active (not revoked, not expired) claim, one row each
    claims.jsonl     the same rows as JSON lines (for tools without Parquet)
    manifest.json    format, created_at, counts, sha256 + size of each file, public key
    manifest.sig     Ed25519 signature (hex) of the canonical JSON of manifest.json
    manifest.tsr.json  optional RFC 3161 token (``core.timestamps``) over the canonical
                     manifest followed by the signature line, when a TSA is configured

The manifest is the commit point: data files are written first (tmp + rename), the
manifest and its signature last, so a crash never leaves a manifest naming a partial file.
``verify_snapshot`` refuses a folder holding any other file (a swapped-in extra file would
otherwise ride along unnoticed), checks the signature, every file's hash and the row count,
the timestamp token if there is one, and says whether the key is trusted (``core.trust``:
pinned, this home's key list, a configured list). The manifest's own key only proves
integrity, not origin, so ``load_snapshot_index`` (what ``filter`` uses) refuses an
untrusted snapshot unless the caller accepts the embedded key explicitly.
Owner e-mails and tokens are never exported; claims carry the owner id only.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from traindex.core.signing import (
    SignatureError,
    Signer,
    canonical_json,
    file_sha256,
    key_fingerprint,
    load_public_key,
    public_key_hex,
    verify_signature,
)
from traindex.core.timestamps import TimestampCheck, check_timestamp, request_timestamp
from traindex.core.trust import KeyTrust, TrustedKeys
from traindex.registry.decisions import ClaimRecord, DecisionIndex

__all__ = [
    "FORMAT",
    "SNAPSHOT_SCHEMA",
    "SnapshotInfo",
    "load_snapshot_index",
    "verify_snapshot",
    "write_snapshot",
]

FORMAT = "traindex-registry-snapshot/1"
PARQUET, JSONL, MANIFEST, SIGNATURE, TIMESTAMP = (
    "claims.parquet",
    "claims.jsonl",
    "manifest.json",
    "manifest.sig",
    "manifest.tsr.json",
)
FILES = frozenset({PARQUET, JSONL, MANIFEST, SIGNATURE, TIMESTAMP})
_TS = pa.timestamp("us", tz="UTC")
SNAPSHOT_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("owner_id", pa.string()),
        ("kind", pa.string()),
        ("value", pa.string()),
        ("include_subdomains", pa.bool_()),
        ("sha256", pa.string()),
        ("md5", pa.string()),
        ("pdq", pa.string()),
        ("terms", pa.string()),
        ("contact", pa.string()),
        ("expires_at", _TS),
        ("status", pa.string()),
        ("created_at", _TS),
        ("iscc", pa.string()),  # last ones: snapshots written before them still load
        ("keypoints", pa.binary()),
    ]
)
_BATCH = 50_000


@dataclass(frozen=True, slots=True)
class SnapshotInfo:
    """A written or verified snapshot: where, how many claims, and the signing key."""

    path: Path
    manifest: dict[str, Any]
    key_fingerprint: str
    trust: KeyTrust | None = None
    timestamp: TimestampCheck | None = None

    @property
    def claim_count(self) -> int:
        return int(self.manifest["counts"]["claims"])

    @property
    def manifest_sha256(self) -> str:
        return hashlib.sha256(canonical_json(self.manifest)).hexdigest()


def _atomic_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _json_row(row: dict[str, Any]) -> str:
    out = {
        k: v.isoformat() if isinstance(v, datetime) else v.hex() if isinstance(v, bytes) else v
        for k, v in row.items()
    }
    return json.dumps(out, ensure_ascii=False, sort_keys=True)


def _stamped(manifest: dict[str, Any], signature: str) -> bytes:
    """What a snapshot's timestamp token covers: the signed manifest and its signature."""
    return canonical_json(manifest) + b"\n" + signature.encode("ascii")


def write_snapshot(
    rows: Iterator[dict[str, Any]],
    out: Path,
    signer: Signer,
    now: datetime | None = None,
    tsa_url: str | None = None,
) -> SnapshotInfo:
    """Write ``rows`` (claim dicts in ``SNAPSHOT_SCHEMA`` order; the caller picks active ones),
    timestamped by the authority at ``tsa_url`` if given."""
    out.mkdir(parents=True, exist_ok=True)
    created = now or datetime.now(UTC)
    counts: dict[str, Counter[str]] = {"kind": Counter(), "terms": Counter(), "status": Counter()}
    total = 0
    tmp_parquet, tmp_jsonl = out / (PARQUET + ".tmp"), out / (JSONL + ".tmp")
    with (
        pq.ParquetWriter(tmp_parquet, SNAPSHOT_SCHEMA, compression="zstd") as writer,
        tmp_jsonl.open("w", encoding="utf-8") as lines,
    ):
        batch: list[dict[str, Any]] = []
        for row in rows:
            batch.append(row)
            for name, counter in counts.items():
                counter[row[name]] += 1
            lines.write(_json_row(row) + "\n")
            if len(batch) >= _BATCH:
                writer.write_table(pa.Table.from_pylist(batch, SNAPSHOT_SCHEMA))
                total, batch = total + len(batch), []
        writer.write_table(pa.Table.from_pylist(batch, SNAPSHOT_SCHEMA))
        total += len(batch)
    os.replace(tmp_parquet, out / PARQUET)
    os.replace(tmp_jsonl, out / JSONL)
    manifest = {
        "format": FORMAT,
        "created_at": created.isoformat(),
        "counts": {"claims": total, **{k: dict(sorted(v.items())) for k, v in counts.items()}},
        "files": {
            name: {"sha256": file_sha256(out / name), "bytes": (out / name).stat().st_size}
            for name in (PARQUET, JSONL)
        },
        "public_key": public_key_hex(signer.public_key),
    }
    _commit(out, manifest, signer, tsa_url)
    return SnapshotInfo(out, manifest, key_fingerprint(signer.public_key))


def _commit(out: Path, manifest: dict[str, Any], signer: Signer, tsa_url: str | None) -> None:
    """Manifest, signature, then the timestamp token (if a TSA is set): the commit point."""
    _atomic_text(out / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    signature = signer.sign(canonical_json(manifest))
    _atomic_text(out / SIGNATURE, signature + "\n")
    (out / TIMESTAMP).unlink(missing_ok=True)
    if tsa_url is not None:
        record = request_timestamp(tsa_url, _stamped(manifest, signature))
        _atomic_text(out / TIMESTAMP, json.dumps(record, indent=2) + "\n")


def _extra_files(path: Path) -> None:
    extra = sorted(p.name for p in path.iterdir() if p.name not in FILES) if path.is_dir() else []
    if extra:
        raise SignatureError(
            f"{path} holds files the snapshot does not list: {', '.join(extra)}; "
            "a snapshot folder must hold only its own files"
        )


def _timestamp(path: Path, stamped: bytes, tsa_certs: list[Any]) -> TimestampCheck | None:
    if not (path / TIMESTAMP).exists():
        return None
    try:
        record = json.loads((path / TIMESTAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SignatureError(f"{path / TIMESTAMP} is unreadable ({exc})") from None
    return check_timestamp(record, stamped, tsa_certs)


def verify_snapshot(
    path: Path,
    public_key: Ed25519PublicKey | str | None,
    *,
    trusted: TrustedKeys | None = None,
    accept_embedded_key: bool = False,
    tsa_certificates: list[Any] | None = None,
) -> SnapshotInfo:
    """Check files, signature, hashes, row count and timestamp; ``SignatureError`` names what
    is wrong. ``info.trust`` says whether the key is trusted: ``public_key`` pins it, else
    ``trusted`` (this home's and configured key lists) or ``accept_embedded_key`` decide."""
    _extra_files(path)
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        signature = (path / SIGNATURE).read_text(encoding="ascii").strip()
    except (OSError, ValueError) as exc:
        raise SignatureError(f"{path} is not a readable snapshot ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise SignatureError(f"{path / MANIFEST} is not a {FORMAT} manifest")
    if public_key is None:
        key = load_public_key(str(manifest.get("public_key", "")))
    else:
        key = load_public_key(public_key) if isinstance(public_key, str) else public_key
    verify_signature(key, canonical_json(manifest), signature)
    for name, expected in manifest["files"].items():
        actual = file_sha256(path / name) if (path / name).is_file() else "missing"
        if actual != expected["sha256"]:
            raise SignatureError(f"{path / name}: sha256 {actual} does not match the manifest")
    rows = pq.ParquetFile(path / PARQUET).metadata.num_rows
    if rows != manifest["counts"]["claims"]:
        raise SignatureError(f"{path / PARQUET} holds {rows} claims, the manifest says otherwise")
    fingerprint = key_fingerprint(key)
    trust = (trusted or TrustedKeys({})).judge(
        public_key_hex(key),
        fingerprint,
        pinned=None if public_key is None else fingerprint,
        accept_embedded=accept_embedded_key,
    )
    stamp = _timestamp(path, _stamped(manifest, signature), tsa_certificates or [])
    return SnapshotInfo(path, manifest, fingerprint, trust, stamp)


def load_snapshot_index(
    path: Path,
    public_key: Ed25519PublicKey | str | None = None,
    *,
    trusted: TrustedKeys | None = None,
    accept_embedded_key: bool = False,
) -> tuple[SnapshotInfo, DecisionIndex]:
    """Verify a snapshot and load its claims into a decision index (offline filtering);
    ``UntrustedKeyError`` if its key is not trusted (see ``verify_snapshot``)."""
    info = verify_snapshot(
        path, public_key, trusted=trusted, accept_embedded_key=accept_embedded_key
    )
    assert info.trust is not None
    info.trust.require("the snapshot")
    index = DecisionIndex()
    parquet = pq.ParquetFile(path / PARQUET)
    for batch in parquet.iter_batches(batch_size=_BATCH):
        for row in batch.to_pylist():
            expires = row["expires_at"]
            index.apply(
                ClaimRecord(
                    row["id"],
                    row["kind"],
                    row["value"],
                    row["include_subdomains"],
                    row["sha256"],
                    row["md5"],
                    row["pdq"],
                    row["terms"],
                    row["status"],
                    None if expires is None else expires.timestamp(),
                    row.get("iscc"),
                    row.get("keypoints"),
                )
            )
    return info, index
