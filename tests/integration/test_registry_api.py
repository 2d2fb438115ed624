"""The registry HTTP API: flows, the stable error shape, limits, snapshots, remote filter."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from traindex.config import Settings
from traindex.filtering.deciders import RemoteDecider
from traindex.filtering.run import FilterOptions, filter_inputs
from traindex.registry.snapshot import verify_snapshot
from traindex.server.app import create_app


@pytest.fixture
def client(settings: Settings) -> TestClient:
    return TestClient(create_app(settings))


def _owner(client: TestClient, name: str = "alice") -> dict[str, str]:
    response = client.post("/api/registry/owners", json={"name": name})
    assert response.status_code == 201
    return {"Authorization": f"Bearer {response.json()['token']}"}


def _claim(kind: str, value: str, terms: str = "do_not_train") -> dict[str, object]:
    return {"selector": {"kind": kind, "value": value}, "terms": terms}


def _error(response: object, status: int, code: str) -> str:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    return str(body["error"]["message"])


def test_claim_flow_and_bulk_check(client: TestClient) -> None:
    alice = _owner(client)
    first = client.post("/api/registry/claims", json=_claim("domain", "example.com"), headers=alice)
    again = client.post("/api/registry/claims", json=_claim("domain", "EXAMPLE.com"), headers=alice)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["status"] == "unverified"
    items = ["https://img.example.com/a.jpg", "https://other.org/", "sha256:" + "0" * 64, "x"]
    strict = client.post("/api/registry/check", json={"items": items}).json()["decisions"]
    assert [d["decision"] for d in strict] == ["unknown"] * 4
    assert strict[0]["unverified_claim_ids"] == [first.json()["id"]]
    loose = client.post("/api/registry/check", json={"items": items, "count_unverified": True})
    decisions = loose.json()["decisions"]
    assert [d["decision"] for d in decisions] == ["do_not_train", "unknown", "unknown", "unknown"]
    assert decisions[3]["error"]
    mine = client.get("/api/registry/claims", params={"mine": True}, headers=alice).json()
    assert [c["id"] for c in mine["claims"]] == [first.json()["id"]]
    steps = client.get(f"/api/registry/claims/{first.json()['id']}/verification", headers=alice)
    assert steps.json()["dns_name"] == "_traindex-verification.example.com"
    revoked = client.post(f"/api/registry/claims/{first.json()['id']}/revoke", headers=alice)
    assert revoked.json()["status"] == "revoked"
    assert "/api/registry/check" in client.get("/openapi.json").json()["paths"]


def test_errors_have_one_shape(client: TestClient) -> None:
    alice, mallory = _owner(client, "alice"), _owner(client, "mallory")
    claim = client.post(
        "/api/registry/claims", json=_claim("url", "https://a.org/x"), headers=alice
    )
    _error(client.post("/api/registry/claims", json=_claim("domain", "a.org")), 401, "unauthorized")
    bad = {"Authorization": "Bearer tdx_0000000000000000_" + "x" * 40}
    _error(
        client.post("/api/registry/claims", json=_claim("domain", "a.org"), headers=bad),
        401,
        "unauthorized",
    )
    _error(
        client.post(f"/api/registry/claims/{claim.json()['id']}/revoke", headers=mallory),
        403,
        "forbidden",
    )
    _error(client.get("/api/registry/claims/nope"), 404, "not_found")
    malformed = client.post(
        "/api/registry/claims",
        content=b'{"selector": ',
        headers={**alice, "content-type": "application/json"},
    )
    _error(malformed, 422, "invalid_request")
    _error(
        client.post(
            "/api/registry/claims",
            json={"selector": {"kind": "everything", "value": "x"}},
            headers=alice,
        ),
        422,
        "invalid_request",
    )
    for selector in (
        _claim("domain", "*"),
        _claim("domain", "co.uk"),
        _claim("url", "https://a.org/" + "x" * 1_000_000),
        _claim("domain", "a.org'); DROP TABLE claims;--"),
        _claim("domain", "a.org", "license_required"),
    ):
        _error(
            client.post("/api/registry/claims", json=selector, headers=alice), 422, "claim_rejected"
        )
    _error(client.post("/api/registry/owners", json={"name": "alice"}), 409, "owner_exists")
    too_many = client.post("/api/registry/check", json={"items": ["https://a.org/"] * 10_001})
    assert "at most 10,000" in _error(too_many, 422, "claim_rejected")
    claims = client.get("/api/registry/claims").json()["claims"]
    assert [c["id"] for c in claims] == [claim.json()["id"]]


def test_body_size_and_rate_limits(settings: Settings) -> None:
    limited = Settings(
        home=settings.home,
        registry_max_body_bytes=4096,
        registry_rate_per_second=0.001,
        registry_rate_burst=3,
    )
    client = TestClient(create_app(limited))
    big = json.dumps({"items": ["https://a.org/" + "x" * 5000]})
    _error(
        client.post(
            "/api/registry/check", content=big, headers={"content-type": "application/json"}
        ),
        413,
        "request_too_large",
    )
    statuses = [
        client.post("/api/registry/check", json={"items": []}).status_code for _ in range(2)
    ]
    assert statuses == [200, 200]  # the oversized request took the first token
    response = client.post("/api/registry/check", json={"items": []})
    _error(response, 429, "rate_limited")
    assert int(response.headers["retry-after"]) > 0


def test_image_upload_and_snapshot_download(
    client: TestClient, shared_data: Path, tmp_path: Path
) -> None:
    alice = _owner(client)
    photo = (shared_data / "conceptual-12m" / "images" / "cc12m_1.jpg").read_bytes()
    created = client.post(
        "/api/registry/claims/image",
        headers=alice,
        files={"file": ("me.jpg", io.BytesIO(photo), "image/jpeg")},
    )
    assert created.status_code == 201
    selector = created.json()["selector"]
    assert selector["kind"] == "image"
    assert selector["pdq"]
    _error(
        client.post(
            "/api/registry/claims/image",
            headers=alice,
            files={"file": ("x.jpg", io.BytesIO(b"nope"), "image/jpeg")},
        ),
        422,
        "claim_rejected",
    )
    folder = tmp_path / "downloaded"
    folder.mkdir()
    for name in ("manifest.json", "manifest.sig", "claims.parquet", "claims.jsonl"):
        response = client.get(f"/api/registry/snapshot/{name}")
        assert response.status_code == 200
        (folder / name).write_bytes(response.content)
    manifest = json.loads((folder / "manifest.json").read_text())
    info = verify_snapshot(folder, manifest["public_key"])
    assert info.claim_count == 1
    assert pq.read_table(folder / "claims.parquet").column("sha256").to_pylist() == [
        selector["sha256"]
    ]


def test_filter_against_a_live_registry_server(
    server: str, shared_data: Path, tmp_path: Path
) -> None:
    import httpx

    token = httpx.post(f"{server}/api/registry/owners", json={"name": "agency"}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    body = _claim("domain", "dreamstime.com")
    assert httpx.post(f"{server}/api/registry/claims", json=body, headers=headers).is_success
    src = shared_data / "img2dataset" / "tests" / "test_files" / "test_1000.parquet"
    out = tmp_path / "out.parquet"
    decider = RemoteDecider(server, count_unverified=True)
    (summary,) = filter_inputs(src, out, decider, FilterOptions("remote"))
    urls = pq.read_table(src).column("URL").to_pylist()
    hosts = [u.split("://", 1)[1].split("/", 1)[0].lower() for u in urls]
    expected = [
        u
        for u, h in zip(urls, hosts, strict=True)
        if not (h == "dreamstime.com" or h.endswith(".dreamstime.com"))
    ]
    assert pq.read_table(out).column("URL").to_pylist() == expected
    assert summary.result.removed["claim:do_not_train"] == len(urls) - len(expected) > 0


def test_bulk_import_is_all_or_nothing_and_resumable(client: TestClient) -> None:
    alice = _owner(client)
    batch = [_claim("url", f"https://a.org/{i}.jpg") for i in range(50)]
    bad = [*batch[:10], _claim("domain", "co.uk"), *batch[10:]]
    message = _error(
        client.post("/api/registry/claims/bulk", json={"claims": bad}, headers=alice),
        422,
        "claim_rejected",
    )
    assert message.startswith("claim 10:")
    assert client.get("/api/registry/claims").json()["claims"] == []
    first = client.post("/api/registry/claims/bulk", json={"claims": batch[:30]}, headers=alice)
    resumed = client.post("/api/registry/claims/bulk", json={"claims": batch}, headers=alice)
    assert first.status_code == resumed.status_code == 201
    ids = [c["id"] for c in resumed.json()["claims"]]
    assert ids[:30] == [c["id"] for c in first.json()["claims"]]
    assert len(set(ids)) == 50
    assert len(client.get("/api/registry/claims").json()["claims"]) == 50
