"""The evidence API over a real catalog: report, verify, letter, licences, public key."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from traindex.config import Settings
from traindex.server.app import create_app

pytestmark = pytest.mark.shared


@pytest.fixture(scope="module")
def client(demo_settings: Settings) -> TestClient:
    return TestClient(create_app(demo_settings))


def test_report_verify_and_letter_round_trip(client: TestClient) -> None:
    key = client.get("/api/evidence/public-key").json()
    made = client.post(
        "/api/evidence/report",
        json={"query": {"kind": "flickr_user", "value": "sneakerdog"}, "requested_by": "Jane"},
    )
    assert made.status_code == 200, made.text
    document = json.loads(made.content)
    assert document["signature"]["public_key"] == key["public_key"]
    checked = client.post(
        "/api/evidence/verify", json={"report": document, "public_key": key["public_key"]}
    )
    assert checked.json()["valid"] is True
    document["report"]["requested_by"] = "Mallory"
    assert client.post("/api/evidence/verify", json={"report": document}).json()["valid"] is False
    refused = client.post("/api/evidence/letter", json={"report": document, "kind": "removal"})
    assert refused.status_code == 400
    assert "edited" in refused.json()["detail"]
    document["report"]["requested_by"] = "Jane"
    letter = client.post(
        "/api/evidence/letter", json={"report": document, "kind": "gdpr-erasure", "lang": "nl"}
    )
    assert letter.status_code == 200
    assert "artikel 17" in letter.text


def test_report_formats_and_errors(client: TestClient) -> None:
    search = {
        "query": {"kind": "domain", "value": "127.0.0.1", "dataset": None},
        "total": 0,
        "matches": [],
    }
    html = client.post("/api/evidence/report", json={"search": search, "format": "html"})
    assert html.headers["content-type"].startswith("text/html")
    assert "No dataset row matched any search." in html.text
    both = client.post(
        "/api/evidence/report", json={"search": search, "query": {"kind": "text", "value": "x"}}
    )
    assert both.status_code == 400
    missing = client.post(
        "/api/evidence/report", json={"query": {"kind": "text", "value": "x"}, "dataset": "nope"}
    )
    assert missing.status_code == 404


def test_licenses_endpoint(client: TestClient) -> None:
    audit = client.post(
        "/api/evidence/licenses", json={"dataset": "cc3m-img2dataset", "attribution": "attribution"}
    )
    data = audit.json()
    assert data["audits"][0]["commercial_rows"] == 18
    assert len(data["attribution"]) == 18
    listed = client.post(
        "/api/evidence/licenses",
        json={"dataset": "demo-photos", "attribution": "cc", "format": "csv"},
    )
    assert listed.text.count("\n") == 1 + 5
