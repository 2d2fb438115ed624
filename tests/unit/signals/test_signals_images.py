"""IPTC XMP and C2PA on the shared image fixtures, plus WebP/TIFF and hostile XMP."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from traindex.signals.base import Basis, CheckContext, CheckResult, Resource, Verdict
from traindex.signals.c2pa import C2paChecker, Validation, evaluate_store
from traindex.signals.iptc import IptcChecker, XmpError, classify, read_rights

PLUS_ATTR = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    'xmlns:plus="http://ns.useplus.org/ldf/xmp/1.0/" '
    'plus:DataMining="http://ns.useplus.org/ldf/vocab/{term}"/></rdf:RDF></x:xmpmeta>'
)
IMAGE_FIXTURES = {
    "datadiligence_sample_c2pa.png": ("c2pa", Verdict.RESERVED, Basis.STATEMENT),
    "c2pa-python_C_with_CAWG_data.jpg": ("c2pa", Verdict.RESERVED, Basis.STATEMENT),
    "c2pa-python_C.jpg": ("c2pa", Verdict.UNKNOWN, Basis.ABSENT),
    "c2pa-python_CA.jpg": ("c2pa", Verdict.UNKNOWN, Basis.ABSENT),
    "c2pa-python_XCA.jpg": ("c2pa", Verdict.UNKNOWN, Basis.ERROR),  # assertion.dataHash.mismatch
    "c2pa-python_A.jpg": ("c2pa", Verdict.UNKNOWN, Basis.ABSENT),
    "c2pa-python_cloud.jpg": ("c2pa", Verdict.UNKNOWN, Basis.ERROR),
}


def _file(path: Path) -> Resource:
    return Resource(str(path), str(path), None, (), path.read_bytes(), "", None)


def _bytes(data: bytes, complete: bool = True) -> Resource:
    return Resource("mem", "mem", None, (), data, "", None, complete)


def _check(checker: Any, resource: Resource) -> CheckResult | None:
    result: CheckResult | None = asyncio.run(checker.check(resource, CheckContext(())))
    return result


def test_vector_file_is_complete(
    shared_data: Path, vector_file: Callable[[str], list[dict[str, Any]]]
) -> None:
    assert len(vector_file("iptc_xmp_vectors.json")) == 8


@pytest.mark.shared
@pytest.mark.vectors("iptc_xmp_vectors.json")
def test_iptc_vector(case: dict[str, Any], shared_data: Path) -> None:
    name = case["file"].removeprefix("fixtures/")
    result = _check(IptcChecker(), _file(shared_data / "optout-signals/images" / name))
    assert result is not None
    expected = {
        "no-signal": Verdict.UNKNOWN,
        "allowed": Verdict.ALLOWED,
        "reserved": Verdict.RESERVED,
    }
    assert result.verdict is expected[case["classification"]]
    if case["DataMining"]:
        assert result.raw is not None
        assert result.raw.startswith(case["DataMining"])
    if case["OtherConstraints"]:
        assert result.raw is not None
        assert result.raw.endswith(f"OtherConstraints: {case['OtherConstraints']}")


@pytest.mark.shared
@pytest.mark.parametrize("name", sorted(IMAGE_FIXTURES))
def test_c2pa_fixture(name: str, shared_data: Path) -> None:
    signal, verdict, basis = IMAGE_FIXTURES[name]
    result = _check(C2paChecker(), _file(shared_data / "optout-signals/images" / name))
    assert result is not None
    assert (result.signal, result.verdict, result.basis) == (signal, verdict, basis)


@pytest.mark.shared
def test_cawg_reservation_names_the_assertion(shared_data: Path) -> None:
    path = shared_data / "optout-signals/images/c2pa-python_C_with_CAWG_data.jpg"
    result = _check(C2paChecker(), _file(path))
    assert result is not None
    assert "cawg.training-mining/cawg.ai_generative_training" in result.source
    assert result.raw == "notAllowed"
    assert (
        "signed by C2PA Signer (issuer C2PA Test Signing Cert), not on a configured trust list"
        in result.reason
    )


@pytest.mark.shared
def test_tampered_fixture_is_refused_with_its_failure_code(shared_data: Path) -> None:
    result = _check(C2paChecker(), _file(shared_data / "optout-signals/images/c2pa-python_XCA.jpg"))
    assert result is not None
    assert result.raw == "invalid: assertion.dataHash.mismatch"
    assert "refused as tampered" in result.reason


@pytest.mark.shared
def test_cut_c2pa_body_is_unknown_not_absent(shared_data: Path) -> None:
    data = (shared_data / "optout-signals/images/c2pa-python_C_with_CAWG_data.jpg").read_bytes()
    result = _check(C2paChecker(), _bytes(data[:5000], complete=False))
    assert result is not None
    assert (result.verdict, result.basis) == (Verdict.UNKNOWN, Basis.ERROR)


def _store(entries: dict[str, Any], label: str = "cawg.training-mining") -> dict[str, Any]:
    assertion = {"label": label, "data": {"entries": entries}}
    return {"active_manifest": "m", "manifests": {"m": {"assertions": [assertion]}}}


TRUSTED = Validation("Trusted", (), "Signer")
UNTRUSTED = Validation("Valid", ("signingCredential.untrusted",), "Signer")
UNRESOLVED = Validation("Invalid", ("cawg.identity.unresolvable",), "Signer")
TAMPERED = Validation(
    "Invalid", ("signingCredential.untrusted", "assertion.dataHash.mismatch"), "S"
)
ALLOW = {"cawg.ai_training": {"use": "allowed"}}
DENY = {"cawg.data_mining": {"use": "notAllowed"}}


@pytest.mark.parametrize(
    ("entries", "check", "verdict", "basis"),
    [
        ({"cawg.ai_training": {"use": "constrained"}}, TRUSTED, Verdict.RESERVED, Basis.STATEMENT),
        (DENY, UNTRUSTED, Verdict.RESERVED, Basis.STATEMENT),
        (DENY, UNRESOLVED, Verdict.RESERVED, Basis.STATEMENT),
        (DENY, TAMPERED, Verdict.UNKNOWN, Basis.ERROR),
        (ALLOW, TRUSTED, Verdict.ALLOWED, Basis.STATEMENT),
        (ALLOW, UNTRUSTED, Verdict.UNKNOWN, Basis.ABSENT),
        (ALLOW, UNRESOLVED, Verdict.UNKNOWN, Basis.ABSENT),
        (ALLOW, TAMPERED, Verdict.UNKNOWN, Basis.ERROR),
        ({"cawg.ai_inference": {"use": "notAllowed"}}, TRUSTED, Verdict.UNKNOWN, Basis.ABSENT),
        ({}, TRUSTED, Verdict.UNKNOWN, Basis.ABSENT),
    ],
)
def test_training_mining_entries(
    entries: dict[str, Any], check: Validation, verdict: Verdict, basis: Basis
) -> None:
    """Tampering refuses; an untrusted signer's reservation counts, its allow does not."""
    result = evaluate_store(_store(entries), check, "x")
    assert (result.verdict, result.basis) == (verdict, basis)
    if check is UNTRUSTED and entries:
        assert "signed by Signer, not on a configured trust list" in result.reason


def test_instance_suffix_and_c2pa_label_are_read() -> None:
    store = _store({"c2pa.ai_training": {"use": "notAllowed"}}, "c2pa.training-mining__2")
    assert evaluate_store(store, TRUSTED, "x").verdict is Verdict.RESERVED


@pytest.mark.parametrize("fmt", ["WEBP", "TIFF", "PNG", "JPEG"])
def test_iptc_in_every_container(fmt: str) -> None:
    xmp = PLUS_ATTR.format(term="DMI-PROHIBITED-AIMLTRAINING").encode()
    buffer = io.BytesIO()
    image = Image.new("RGB", (8, 8), "red")
    if fmt == "TIFF":
        image.save(buffer, fmt, tiffinfo={700: xmp})
    elif fmt == "PNG":
        info = PngInfo()
        info.add_itxt("XML:com.adobe.xmp", xmp.decode(), zip=True)
        image.save(buffer, fmt, pnginfo=info)
    else:
        image.save(buffer, fmt, xmp=xmp)
    result = _check(IptcChecker(), _bytes(buffer.getvalue()))
    assert result is not None
    assert result.verdict is Verdict.RESERVED


def test_truncated_image_falls_back_to_packet_search() -> None:
    xmp = PLUS_ATTR.format(term="DMI-PROHIBITED").encode()
    data = b"\xff\xd8\xff\xe1garbage" + xmp + b"\x00" * 10
    result = _check(IptcChecker(), _bytes(data))
    assert result is not None
    assert result.verdict is Verdict.RESERVED


@pytest.mark.parametrize(
    "packet",
    [
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>&e;</x:xmpmeta>",
        b'<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><x:xmpmeta>&b;</x:xmpmeta>',
        b"<x:xmpmeta><unclosed></x:xmpmeta>",
    ],
)
def test_hostile_or_broken_xmp_is_refused(packet: bytes) -> None:
    with pytest.raises(XmpError):
        read_rights(packet)


@pytest.mark.parametrize(
    ("value", "verdict", "basis"),
    [
        ("http://ns.useplus.org/ldf/vocab/DMI-UNSPECIFIED", Verdict.UNKNOWN, Basis.ABSENT),
        ("DMI-PROHIBITED-AIGENAI", Verdict.RESERVED, Basis.STATEMENT),
        ("Prohibited for Generative AI/ML training", Verdict.RESERVED, Basis.STATEMENT),
        ("Allowed", Verdict.ALLOWED, Basis.STATEMENT),
        ("maybe", Verdict.UNKNOWN, Basis.ERROR),
        (None, Verdict.UNKNOWN, Basis.ABSENT),
    ],
)
def test_data_mining_values(value: str | None, verdict: Verdict, basis: Basis) -> None:
    assert classify(value) == (verdict, basis)


def test_non_images_are_not_checked() -> None:
    html = Resource("u", "u", "u", (), b"<html></html>", "text/html", None)
    assert _check(IptcChecker(), html) is None
    assert _check(C2paChecker(), html) is None
