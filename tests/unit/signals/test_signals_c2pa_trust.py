"""C2PA trust gate on files signed here with c2pa-python and a throw-away CA.

The key pair and certificates are made per test session, so nothing secret or third-party is
stored; the CA's PEM is the trust list when a test configures one.
"""

from __future__ import annotations

import asyncio
import datetime
import io
import json
from dataclasses import dataclass
from pathlib import Path

import c2pa
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from PIL import Image
from typer.testing import CliRunner

from traindex.config import Settings
from traindex.errors import InputError
from traindex.signals.base import Basis, CheckContext, Resource, Verdict
from traindex.signals.c2pa import C2paChecker
from traindex.signals.service import run_checks, trust_anchors

CREATED = {
    "label": "c2pa.actions",
    "data": {
        "actions": [
            {
                "action": "c2pa.created",
                "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture",
            }
        ]
    },
}


@dataclass(frozen=True)
class Keys:
    chain: bytes
    key: bytes
    anchor: str


def _name(common: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "traindex tests"),
        ]
    )


def _cert(
    subject: str,
    issuer: x509.Name,
    public: ec.EllipticCurvePublicKey,
    signer: ec.EllipticCurvePrivateKey,
    ca: bool,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    usage = (not ca, False, False, False, False, ca, ca, False, False)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(*usage), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
    )
    if not ca:  # a C2PA signing certificate needs an EKU and its issuer's key id
        eku = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION])
        aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key())
        builder = builder.add_extension(eku, critical=False).add_extension(aki, critical=False)
    return builder.sign(signer, hashes.SHA256())


@pytest.fixture(scope="module")
def keys() -> Keys:
    root_key, leaf_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    root = _cert(
        "traindex test root", _name("traindex test root"), root_key.public_key(), root_key, True
    )
    leaf = _cert("traindex test signer", root.subject, leaf_key.public_key(), root_key, False)
    pem = serialization.Encoding.PEM
    key = leaf_key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return Keys(
        leaf.public_bytes(pem) + root.public_bytes(pem), key, root.public_bytes(pem).decode()
    )


def _signed(keys: Keys, use: str) -> bytes:
    source = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(source, "JPEG")
    source.seek(0)
    training = {
        "label": "cawg.training-mining",
        "data": {"entries": {"cawg.ai_training": {"use": use}}},
    }
    manifest = {
        "claim_generator_info": [{"name": "traindex-tests", "version": "1"}],
        "assertions": [CREATED, training],
    }
    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(b"es256", keys.chain, keys.key, None))
    out = io.BytesIO()
    with c2pa.Builder(json.dumps(manifest)) as builder:
        builder.sign(signer, "image/jpeg", source, out)
    return out.getvalue()


def _check(data: bytes, anchors: str | None = None) -> tuple[Verdict, Basis, str]:
    resource = Resource("mem", "mem", None, (), data, "image/jpeg", None)
    context = CheckContext((), c2pa_trust_anchors=anchors)
    result = asyncio.run(C2paChecker().check(resource, context))
    assert result is not None
    return result.verdict, result.basis, result.reason


def test_untrusted_allow_is_read_but_not_counted(keys: Keys) -> None:
    verdict, basis, reason = _check(_signed(keys, "allowed"))
    assert (verdict, basis) == (Verdict.UNKNOWN, Basis.ABSENT)
    assert (
        "signed by traindex test signer (issuer traindex tests), not on a configured trust list"
        in reason
    )


def test_trust_list_makes_the_same_allow_count(keys: Keys) -> None:
    verdict, basis, reason = _check(_signed(keys, "allowed"), keys.anchor)
    assert (verdict, basis) == (Verdict.ALLOWED, Basis.STATEMENT)
    assert "trusted signer" in reason


def test_untrusted_reservation_counts(keys: Keys) -> None:
    verdict, basis, reason = _check(_signed(keys, "notAllowed"))
    assert (verdict, basis) == (Verdict.RESERVED, Basis.STATEMENT)
    assert "not on a configured trust list" in reason


def test_tampered_file_is_refused_even_from_a_trusted_signer(keys: Keys) -> None:
    data = bytearray(_signed(keys, "allowed"))
    data[-10] ^= 0xFF  # inside the JPEG scan data, which the data hash covers
    verdict, basis, reason = _check(bytes(data), keys.anchor)
    assert (verdict, basis) == (Verdict.UNKNOWN, Basis.ERROR)
    assert "refused as tampered" in reason


def test_trust_list_setting_reaches_file_checks(
    keys: Keys, tmp_path: Path, settings: Settings
) -> None:
    image, anchors = tmp_path / "signed.jpg", tmp_path / "anchors.pem"
    image.write_bytes(_signed(keys, "allowed"))
    anchors.write_text(keys.anchor)
    configured = settings.model_copy(update={"signals_c2pa_trust_anchors": anchors})
    [verdict] = run_checks([str(image)], configured, ("GPTBot",))
    assert verdict.verdict is Verdict.ALLOWED


def test_unreadable_trust_list_is_a_clear_error(tmp_path: Path, settings: Settings) -> None:
    with pytest.raises(InputError, match=r"not-there\.pem"):
        trust_anchors(
            settings.model_copy(update={"signals_c2pa_trust_anchors": tmp_path / "not-there.pem"})
        )
    bad = tmp_path / "bad.pem"
    bad.write_text("hello")
    with pytest.raises(InputError, match="no PEM certificate"):
        trust_anchors(settings.model_copy(update={"signals_c2pa_trust_anchors": bad}))


def test_cli_trust_option(keys: Keys, tmp_path: Path) -> None:
    """``check --c2pa-trust-anchors``: the same file is unknown without, allowed with the list."""
    from traindex.cli.main import app

    image, anchors = tmp_path / "signed.jpg", tmp_path / "anchors.pem"
    image.write_bytes(_signed(keys, "allowed"))
    anchors.write_text(keys.anchor)
    runs = [
        CliRunner().invoke(app, ["check", str(image), "--json", *extra])
        for extra in ([], ["--c2pa-trust-anchors", str(anchors)])
    ]
    assert [run.exit_code for run in runs] == [0, 0], [run.output for run in runs]
    verdicts = [json.loads(run.stdout)["results"][0]["verdict"] for run in runs]
    assert verdicts == ["unknown", "allowed"]
    missing = CliRunner().invoke(app, ["check", str(image), "--c2pa-trust-anchors", "nope.pem"])
    assert missing.exit_code != 0
    assert "nope.pem" in missing.output
