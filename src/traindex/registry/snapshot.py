"""Signed offline snapshots of the registry: what a builder downloads once and filters with.

Layout of a snapshot directory::

    claims.parquet   every active (not revoked, not expired) claim, one row each
    claims.jsonl     the same rows as JSON lines (for tools without Parquet)
    manifest.json    format, created_at, counts, sha256 + size of each file, public key
    manifest.sig     Ed25519 signature (hex) of the canonical JSON of manifest.json

The manifest is the commit point: data files are written first (tmp + rename), the
manifest and its signature last, so a crash never leaves a manifest naming a partial file.
``verify_snapshot`` checks the signature against a key the caller trusts (the one in the
manifest only proves integrity, not origin), then every file's hash and the row count.
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
    key_fingerprint,
    load_public_key,
    public_key_hex,
    verify_signature,
)
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
PARQUET, JSONL, MANIFEST, SIGNATURE = (
    "claims.parquet",
    "claims.jsonl",
    "manifest.json",
    "manifest.sig",
)
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
        ("iscc", pa.string()),  # last: snapshots written before it still load
    ]
)
_BATCH = 50_000


@dataclass(frozen=True, slots=True)
class SnapshotInfo:
    """A written or verified snapshot: where, how many claims, and the signing key."""

    path: Path
    manifest: dict[str, Any]
    key_fingerprint: str

    @property
    def claim_count(self) -> int:
        return int(self.manifest["counts"]["claims"])

    @property
    def manifest_sha256(self) -> str:
        return hashlib.sha256(canonical_json(self.manifest)).hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _atomic_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _json_row(row: dict[str, Any]) -> str:
    out = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()}
    return json.dumps(out, ensure_ascii=False, sort_keys=True)


def write_snapshot(
    rows: Iterator[dict[str, Any]], out: Path, signer: Signer, now: datetime | None = None
) -> SnapshotInfo:
    """Write ``rows`` (claim dicts in ``SNAPSHOT_SCHEMA`` order; the caller picks active ones)."""
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
            name: {"sha256": _sha256(out / name), "bytes": (out / name).stat().st_size}
            for name in (PARQUET, JSONL)
        },
        "public_key": public_key_hex(signer.public_key),
    }
    _atomic_text(out / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    _atomic_text(out / SIGNATURE, signer.sign(canonical_json(manifest)) + "\n")
    return SnapshotInfo(out, manifest, key_fingerprint(signer.public_key))


def verify_snapshot(path: Path, public_key: Ed25519PublicKey | str | None) -> SnapshotInfo:
    """Check signature, file hashes and row count; ``SignatureError`` names what is wrong.

    ``public_key`` None trusts the manifest's own key (integrity only, not origin).
    """
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
        actual = _sha256(path / name) if (path / name).is_file() else "missing"
        if actual != expected["sha256"]:
            raise SignatureError(f"{path / name}: sha256 {actual} does not match the manifest")
    rows = pq.ParquetFile(path / PARQUET).metadata.num_rows
    if rows != manifest["counts"]["claims"]:
        raise SignatureError(f"{path / PARQUET} holds {rows} claims, the manifest says otherwise")
    return SnapshotInfo(path, manifest, key_fingerprint(key))


def load_snapshot_index(
    path: Path, public_key: Ed25519PublicKey | str | None = None
) -> tuple[SnapshotInfo, DecisionIndex]:
    """Verify a snapshot and load its claims into a decision index (offline filtering)."""
    info = verify_snapshot(path, public_key)
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
                )
            )
    return info, index
