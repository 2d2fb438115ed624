"""RFC 3161 trusted timestamps for signed outputs (reports, registry snapshots).

A signature says who; only a timestamp authority (TSA) can say *when* in a way a court
accepts, because the machine's clock is whatever its owner set. With ``tsa_url`` set, the
SHA-256 of the signed bytes is sent to the TSA (pyHanko's RFC 3161 client) and the token
it returns travels with the output. Checking a token (pyHanko's validator) proves: the
token is intact, its imprint is the SHA-256 of exactly these bytes, and it was signed by
an authority whose certificate the reader trusts (``tsa_certificates``); a token from any
other authority is refused. Without a TSA, outputs say their time is the machine's clock.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from asn1crypto import cms, tsp
from asn1crypto import x509 as asn1_x509

from traindex.core.signing import SignatureError

__all__ = [
    "MACHINE_CLOCK",
    "TimestampCheck",
    "check_timestamp",
    "load_certificates_data",
    "load_tsa_certificates",
    "request_timestamp",
]

MACHINE_CLOCK = (
    "no trusted timestamp: the time stated is this machine's clock, which its operator sets"
)


@dataclass(frozen=True, slots=True)
class TimestampCheck:
    """Which authority vouched for which time, and whether the reader trusts it."""

    authority: str
    time: datetime
    trusted: bool

    def describe(self) -> str:
        trust = "a trusted authority" if self.trusted else "an authority you have not trusted"
        return f"timestamped {self.time.isoformat()} by {self.authority} ({trust})"

    def to_json(self) -> dict[str, Any]:
        return {"authority": self.authority, "time": self.time.isoformat(), "trusted": self.trusted}


def _run(coro: Any) -> Any:
    # Called from sync code (CLI, FastAPI's thread pool); pyHanko's API is async.
    return asyncio.run(coro)


def request_timestamp(url: str, data: bytes, timeout: float = 10.0) -> dict[str, str]:
    """Ask the TSA at ``url`` to timestamp SHA-256(``data``); the token as a JSON record."""
    from pyhanko.sign.timestamps.aiohttp_client import HTTPTimeStamper
    from pyhanko.sign.timestamps.common_utils import TimestampRequestError

    stamper = HTTPTimeStamper(url, timeout=timeout)
    try:
        token = _run(stamper.async_timestamp(hashlib.sha256(data).digest(), "sha256"))
    except (TimestampRequestError, OSError) as exc:
        raise SignatureError(f"timestamp authority {url} failed: {exc}") from exc
    info = _tst_info(token)
    return {
        "authority": _authority(token, info),
        "time": info["gen_time"].native.isoformat(),
        "token": base64.b64encode(token.dump()).decode("ascii"),
    }


def load_certificates_data(data: bytes) -> list[asn1_x509.Certificate]:
    """X.509 certificates from PEM (one or several) or DER bytes."""
    from pyhanko.keys import load_certs_from_pemder_data

    try:
        return list(load_certs_from_pemder_data(data))
    except ValueError as exc:
        raise SignatureError(f"not a PEM or DER certificate: {exc}") from None


def load_tsa_certificates(paths: list[Path]) -> list[asn1_x509.Certificate]:
    """Trusted TSA certificates from PEM (or DER) files."""
    certs: list[asn1_x509.Certificate] = []
    for path in paths:
        try:
            certs.extend(load_certificates_data(path.read_bytes()))
        except OSError as exc:
            raise SignatureError(f"cannot read TSA certificate {path}: {exc.strerror}") from None
    return certs


def _tst_info(token: cms.ContentInfo) -> tsp.TSTInfo:
    info = token["content"]["encap_content_info"]["content"].parsed
    if not isinstance(info, tsp.TSTInfo):
        raise SignatureError("timestamp token does not hold an RFC 3161 TSTInfo")
    return info


def _authority(token: cms.ContentInfo, info: tsp.TSTInfo) -> str:
    """The TSA's name as its token states it (else its signing certificate's subject)."""
    if info["tsa"].native is not None:
        return str(info["tsa"].chosen.human_friendly)
    certs = token["content"]["certificates"]
    return str(certs[0].chosen.subject.human_friendly) if certs else "(unnamed authority)"


def check_timestamp(
    record: dict[str, str], data: bytes, trusted: list[asn1_x509.Certificate]
) -> TimestampCheck:
    """Check a token over ``data``; refuse it unless intact, about ``data``, and — when
    ``trusted`` certificates are given — signed by one of those authorities. The record's
    readable ``authority`` and ``time`` must be the token's own."""
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
    from pyhanko_certvalidator import ValidationContext

    try:
        token = cms.ContentInfo.load(base64.b64decode(record["token"], validate=True))
        info = _tst_info(token)
        embedded = [c.chosen for c in token["content"]["certificates"] or []]
    except (KeyError, ValueError, TypeError) as exc:
        raise SignatureError(f"timestamp token is unreadable: {exc}") from None
    roots = trusted or embedded
    if not roots:
        raise SignatureError("timestamp token carries no certificate and none is trusted")
    context = ValidationContext(trust_roots=roots, allow_fetching=False)
    digest = hashlib.sha256(data).digest()
    try:
        status = _run(validate_tst_signed_data(token["content"], context, lambda _algo: digest))
    except SignatureValidationError as exc:
        raise SignatureError(f"timestamp token does not verify: {exc}") from None
    algorithm = info["message_imprint"]["hash_algorithm"]["algorithm"].native
    if not status["intact"] or not status["valid"] or algorithm != "sha256":
        raise SignatureError("timestamp token is not about these bytes: they were changed")
    if trusted and status["trust_problem_indic"] is not None:
        raise SignatureError(
            f"timestamp token is signed by {_authority(token, info)}, "
            "not by a trusted timestamp authority (tsa_certificates)"
        )
    checked = TimestampCheck(_authority(token, info), info["gen_time"].native, bool(trusted))
    _same_as_token(record, checked)
    return checked


def _same_as_token(record: dict[str, str], checked: TimestampCheck) -> None:
    """The readable ``authority`` and ``time`` next to a token are copies of what the token
    says; a copy that differs (edited to mislead a reader of the JSON) is refused."""
    said = {"authority": checked.authority, "time": checked.time.isoformat()}
    for name, value in said.items():
        if name in record and record[name] != value:
            raise SignatureError(
                f"timestamp block says {name} {record[name]!r}, but its token says {value!r}"
            )
