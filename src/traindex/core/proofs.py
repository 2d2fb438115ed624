"""Download proofs: which bytes a URL served, when, and who vouches for that time.

A candidate verified by download (``search --verify-candidates``) is evidence only as far
as its fetch can be believed. Its proof names the URL, the final URL after redirects, the
time of the fetch, the HTTP status and the SHA-256 of the bytes; with a timestamp
authority configured (``tsa_url``) the proof also carries an RFC 3161 token over exactly
those fields (``proof_content``), requested when the candidate is proven, so a third
party can check that the proof existed, unchanged, at the authority's time. Without one
the proof says plainly that its time is the fetching machine's clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from traindex.core.signing import canonical_json
from traindex.core.timestamps import request_timestamp

__all__ = ["PROOF_CLOCK", "PROOF_FIELDS", "download_proof", "proof_content", "proof_time_basis"]

PROOF_FIELDS = ("url", "final_url", "fetched_at", "http_status", "sha256")
PROOF_CLOCK = (
    "no trusted timestamp: the fetch time is the fetching machine's clock, which its operator sets"
)


def proof_content(proof: Mapping[str, Any]) -> bytes:
    """The bytes a proof's timestamp token is about: the canonical JSON of its fields."""
    return canonical_json({name: proof.get(name) for name in PROOF_FIELDS})


def proof_time_basis(timestamp: Mapping[str, str] | None) -> str:
    """What a proof's time rests on, in one sentence (shown with the proof)."""
    if timestamp is None:
        return PROOF_CLOCK
    return (
        f"timestamp authority {timestamp['authority']} vouches that this proof existed at "
        f"{timestamp['time']} (RFC 3161 token over URL, time, HTTP status and SHA-256)"
    )


def download_proof(
    fields: Mapping[str, Any],
    tsa_url: str | None,
    stamped: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The proof of ``fields`` (``PROOF_FIELDS``), timestamped by ``tsa_url`` when set.

    ``stamped`` is a token already taken for these very fields (kept with a cached
    download), so a second search does not stamp an old fetch anew.
    """
    proof = {name: fields.get(name) for name in PROOF_FIELDS}
    timestamp = dict(stamped) if stamped is not None else None
    if timestamp is None and tsa_url is not None:
        timestamp = request_timestamp(tsa_url, proof_content(proof))
    if timestamp is not None:
        proof["timestamp"] = timestamp
    proof["time_basis"] = proof_time_basis(timestamp)
    return proof
