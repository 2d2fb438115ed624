"""Issue 16.5: every verify answer says whether the signer's key is trusted, and letters
refuse reports re-signed by a key nobody vouches for (unless explicitly accepted)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from traindex.config import Settings
from traindex.core.signing import Signer, canonical_json
from traindex.evidence.seal import open_sealed, seal
from traindex.server.app import create_app

pytestmark = pytest.mark.shared


@pytest.fixture(scope="module")
def client(demo_settings: Settings) -> TestClient:
    return TestClient(create_app(demo_settings))


@pytest.fixture(scope="module")
def genuine(client: TestClient) -> dict[str, object]:
    made = client.post(
        "/api/evidence/report",
        json={"query": {"kind": "flickr_user", "value": "sneakerdog"}, "requested_by": "Jane"},
    )
    assert made.status_code == 200
    document: dict[str, object] = made.json()
    return document


def _forged(document: dict[str, object]) -> dict[str, object]:
    """The genuine report, edited and re-signed by an attacker who embeds their own key."""
    sealed = open_sealed(canonical_json(document))
    edited = sealed.report.model_copy(update={"requested_by": "Mallory"})
    attacker = Signer(Ed25519PrivateKey.generate(), None)
    forged: dict[str, object] = seal(edited, attacker).document()
    return forged


def test_api_verify_says_whose_key(client: TestClient, genuine: dict[str, object]) -> None:
    ours = client.post("/api/evidence/verify", json={"report": genuine}).json()
    assert ours["valid"]
    assert ours["trusted"]
    assert ours["intact"]
    assert ours["key_source"] == "this server's key"
    assert "machine" in ours["time"]  # no TSA configured: the clock is the machine's
    forged = client.post("/api/evidence/verify", json={"report": _forged(genuine)}).json()
    assert forged["intact"] is True
    assert forged["valid"] is False
    assert forged["trusted"] is False
    assert "not trusted" in forged["reason"]


def test_api_letter_refuses_untrusted_report(
    cli: Callable[..., str],
    empty_search: dict[str, object],
    client: TestClient,
    genuine: dict[str, object],
) -> None:
    forged = _forged(genuine)
    body = {"report": forged, "kind": "removal", "lang": "en"}
    refused = client.post("/api/evidence/letter", json=body)
    assert refused.status_code == 400
    assert "not this server's key" in refused.json()["detail"]
    accepted = client.post("/api/evidence/letter", json={**body, "accept_embedded_key": True})
    assert accepted.status_code == 200
    assert client.post("/api/evidence/letter", json={**body, "report": genuine}).status_code == 200


def test_cli_verify_and_letter_refuse_untrusted(
    cli: Callable[..., str], demo_settings: Settings, genuine: dict[str, object], tmp_path: Path
) -> None:
    ours, forged = tmp_path / "ours.json", tmp_path / "forged.json"
    ours.write_bytes(canonical_json(genuine))
    forged.write_bytes(canonical_json(_forged(genuine)))
    assert "this server's key" in cli(demo_settings, "report", "verify", str(ours))
    output = cli(demo_settings, "report", "verify", str(forged), code=1)
    assert "NOT TRUSTED" in output
    accepted = cli(demo_settings, "report", "verify", str(forged), "--accept-embedded-key")
    assert "embedded key, accepted" in accepted
    letter = tmp_path / "letter.md"
    args = ("letter", "--report", str(forged), "--kind", "removal", "--out", str(letter))
    assert "--accept-embedded-key" in cli(demo_settings, *args, code=2)
    assert not letter.exists()
    cli(demo_settings, *args, "--accept-embedded-key")
    assert letter.exists()


def test_published_key_list_makes_another_operators_report_trusted(
    cli: Callable[..., str], client: TestClient, genuine: dict[str, object], tmp_path: Path
) -> None:
    listed = client.get("/.well-known/traindex-keys.json").json()
    assert listed["format"] == "traindex-keys/1"
    fingerprint = genuine["signature"]["key_fingerprint"]  # type: ignore[index]
    assert [k["fingerprint"] for k in listed["keys"]] == [fingerprint]
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(listed))
    report = tmp_path / "r.json"
    report.write_bytes(canonical_json(genuine))
    stranger = Settings(home=tmp_path / "stranger")  # a recipient with their own home
    cli(stranger, "report", "verify", str(report), code=1)
    assert "key list keys.json" in cli(
        stranger, "report", "verify", str(report), "--keys", str(keys)
    )
