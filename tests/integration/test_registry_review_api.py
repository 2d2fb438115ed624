"""The review queue and page proofs through the registry HTTP API."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from traindex.config import Settings
from traindex.registry.service import RegistryService
from traindex.server.app import create_app

IMAGES = "conceptual-12m/images"


@pytest.fixture
def client(settings: Settings) -> TestClient:
    return TestClient(create_app(settings))


def _owner(client: TestClient, name: str) -> dict[str, str]:
    response = client.post("/api/registry/owners", json={"name": name})
    assert response.status_code == 201
    return {"Authorization": f"Bearer {response.json()['token']}"}


def _image_claim(client: TestClient, who: dict[str, str], path: Path) -> str:
    files = {"file": (path.name, path.read_bytes(), "image/jpeg")}
    response = client.post("/api/registry/claims/image", files=files, headers=who)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_operator_reviews_image_claims(
    client: TestClient, settings: Settings, shared_data: Path
) -> None:
    ann = _owner(client, "ann")
    first = _image_claim(client, ann, shared_data / IMAGES / "cc12m_1.jpg")
    second = _image_claim(client, ann, shared_data / IMAGES / "cc12m_2.jpg")
    seen = client.get(f"/api/registry/claims/{first}").json()
    assert (seen["status"], seen["review"]["status"]) == ("unverified", "pending")

    rex = _owner(client, "rex")
    denied = client.get("/api/registry/review", headers=rex)
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "forbidden"
    assert client.post(f"/api/registry/review/{first}/approve", headers=rex).status_code == 403
    admin = RegistryService.open(settings)
    rex_owner = admin.owner_named("rex")
    assert rex_owner is not None
    admin.set_operator(rex_owner)
    admin.close()

    queue = client.get("/api/registry/review", headers=rex).json()["reviews"]
    assert [(r["review"]["claim_id"], r["owner"]) for r in queue] == [
        (first, "ann"),
        (second, "ann"),
    ]
    no_reason = client.post(f"/api/registry/review/{second}/reject", headers=rex)
    assert no_reason.status_code == 422
    assert "needs a reason" in no_reason.json()["error"]["message"]
    rejected = client.post(
        f"/api/registry/review/{second}/reject", json={"reason": "a stock photo"}, headers=rex
    )
    assert rejected.json()["status"] == "rejected"
    approved = client.post(f"/api/registry/review/{first}/approve", headers=rex)
    assert approved.json()["status"] == "verified"

    mine = client.get("/api/registry/claims", params={"mine": True}, headers=ann).json()
    reviews = {c["id"]: (c["status"], c["review"]["reason"]) for c in mine["claims"]}
    assert reviews == {first: ("verified", None), second: ("rejected", "a stock photo")}
    sha = approved.json()["selector"]["sha256"]
    check = client.post("/api/registry/check", json={"items": [f"sha256:{sha}"]}).json()
    assert check["decisions"][0]["decision"] == "do_not_train"
    assert client.get("/api/registry/review", headers=rex).json()["reviews"] == []


def test_verify_refuses_someone_elses_page(client: TestClient) -> None:
    ann = _owner(client, "ann")
    claim = client.post(
        "/api/registry/claims",
        json={"selector": {"kind": "flickr_owner", "value": "ann_photos"}},
        headers=ann,
    ).json()
    steps = client.get(f"/api/registry/claims/{claim['id']}/verification", headers=ann).json()
    assert steps["page_url"] == "https://www.flickr.com/people/ann_photos/"
    assert steps["page_scope"] == "flickr:ann_photos"
    other = {"page": "https://www.flickr.com/photos/someone_else/123/"}
    refused = client.post(f"/api/registry/claims/{claim['id']}/verify", json=other, headers=ann)
    assert refused.status_code == 422
    assert "not a page of the claimed account" in refused.json()["error"]["message"]
