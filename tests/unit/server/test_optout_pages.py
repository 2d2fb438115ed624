"""Sign up, sign in, claims, verification and CSRF on the opt-out pages (real registry)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from fastapi.testclient import TestClient

from traindex.config import Settings
from traindex.fingerprint.iscc import iscc_from_body
from traindex.server.app import create_app
from traindex.server.sessions import COOKIE


class _Proofs:
    """A loopback web server that answers the verification fetch with ``token``."""

    token = ""

    def handler(self) -> type[BaseHTTPRequestHandler]:
        proofs = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = proofs.token.encode()
                found = self.path == "/.well-known/traindex-verification.txt" and body
                self.send_response(200 if found else 404)
                self.end_headers()
                self.wfile.write(body if found else b"")

            def log_message(self, *args: object) -> None:
                """Quiet."""

        return Handler


@pytest.fixture
def proofs(
    http_server: Callable[[type[BaseHTTPRequestHandler]], HTTPServer],
) -> tuple[_Proofs, int]:
    state = _Proofs()
    return state, http_server(state.handler()).server_address[1]


@pytest.fixture
def client(settings: Settings, proofs: tuple[_Proofs, int]) -> Iterator[TestClient]:
    verified = settings.model_copy(
        update={
            "registry_verify_scheme": "http",
            "registry_verify_port": proofs[1],
            "registry_verify_connect_host": "127.0.0.1",
            "registry_verify_timeout": 5.0,
        }
    )
    with TestClient(create_app(verified)) as test_client:
        yield test_client


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _signup(client: TestClient, name: str) -> str:
    csrf = _csrf(client.get("/signup").text)
    response = client.post("/signup", data={"name": name, "csrf_token": csrf})
    assert response.status_code == 201, response.text
    token = re.search(r'id="api-token">([^<]+)<', response.text)
    assert token is not None
    return token.group(1)


def test_signup_shows_the_token_once_and_it_signs_in(client: TestClient) -> None:
    token = _signup(client, "Jane Photographer")
    assert "Signed in as <strong>Jane Photographer</strong>" in client.get("/claims").text
    client.cookies.clear()
    assert client.get("/claims", follow_redirects=False).headers["location"] == "/signin"
    csrf = _csrf(client.get("/signin").text)
    response = client.post("/signin", data={"token": token, "csrf_token": csrf})
    assert response.status_code == 200
    assert "My claims" in response.text
    assert token not in response.text  # shown once, at sign-up only
    bad = client.post(
        "/signin", data={"token": "nope", "csrf_token": _csrf(client.get("/signin").text)}
    )
    assert bad.status_code == 401
    assert "malformed API token" in bad.text


def test_post_without_the_csrf_token_is_refused(client: TestClient) -> None:
    client.get("/signup")
    assert client.post("/signup", data={"name": "x"}).status_code == 403
    wrong = client.post("/signup", data={"name": "x", "csrf_token": "forged"})
    assert wrong.status_code == 403
    assert "CSRF check failed" in wrong.text
    client.cookies.set(COOKIE, "tampered." + "x" * 40)
    assert client.post("/signup", data={"name": "x", "csrf_token": "forged"}).status_code == 403


def test_claim_a_domain_verify_it_and_list_it(
    client: TestClient, proofs: tuple[_Proofs, int]
) -> None:
    _signup(client, "Example Studio")
    csrf = _csrf(client.get("/claims/new").text)
    made = client.post(
        "/claims/new",
        data={
            "kind": "domain",
            "value": "example.org",
            "include_subdomains": "on",
            "csrf_token": csrf,
        },
    )
    assert made.status_code == 200
    assert "Prove that example.org is yours" in made.text
    claim_path = str(made.url.path)
    failed = client.post(f"{claim_path}/verify", data={"csrf_token": csrf})
    assert failed.status_code == 422
    assert "could not verify example.org" in failed.text
    # a failed check spends the token (registry rule): publish the one shown now
    token = re.search(r'id="verification-token">([^<]+)<', failed.text)
    assert token is not None
    proofs[0].token = token.group(1)
    done = client.post(f"{claim_path}/verify", data={"csrf_token": csrf})
    assert done.status_code == 200, re.findall(r"<p>(.*?)</p>", done.text)[:2]
    assert 'id="claim-status">verified<' in done.text
    listed = client.get("/claims").text
    assert "example.org" in listed
    assert "status-verified" in listed


def test_claim_selected_urls_then_revoke(client: TestClient) -> None:
    _signup(client, "Agency")
    csrf = _csrf(client.get("/claims").text)
    urls = ["https://img.example.net/a.jpg", "https://img.example.net/b.jpg"]
    response = client.post("/claims/new", data={"kind": "url", "url": urls, "csrf_token": csrf})
    assert response.status_code == 200
    assert all(u in response.text for u in urls)
    claim_id = re.findall(r'href="/claims/([0-9a-f]{32})"', response.text)[0]
    revoked = client.post(f"/claims/{claim_id}/revoke", data={"csrf_token": csrf})
    assert "Revoked" in revoked.text
    assert 'id="claim-status">revoked<' in revoked.text
    client.cookies.clear()
    _signup(client, "Someone Else")
    assert client.get(f"/claims/{claim_id}").status_code == 401


def test_nothing_selected_says_so(client: TestClient) -> None:
    _signup(client, "Empty")
    csrf = _csrf(client.get("/claims/new").text)
    response = client.post("/claims/new", data={"kind": "url", "csrf_token": csrf})
    assert response.status_code == 422
    assert "nothing selected" in response.text


def test_import_a_declaration_file_and_export_it(client: TestClient) -> None:
    declaration = {"iscc": iscc_from_body("c3a1f00d5e6b7a29"), "all": "false",
                   "signature": {"proof": "z3x"}}  # fmt: skip
    assert client.get("/claims/declarations.json", follow_redirects=False).status_code == 303
    _signup(client, "Declaring Studio")
    csrf = _csrf(client.get("/claims").text)
    files = {"declaration": ("mine.json", json.dumps([declaration]), "application/json")}
    done = client.post("/claims/declarations", data={"csrf_token": csrf}, files=files)
    assert done.status_code == 200, done.text
    assert "Imported 1 declaration(s)" in done.text
    claim_id = re.findall(r'href="/claims/([0-9a-f]{32})"', done.text)[0]
    page = client.get(f"/claims/{claim_id}").text
    assert f'id="claim-iscc">{declaration["iscc"]}<' in page
    assert "not verified" in page
    exported = client.get("/claims/declarations.json")
    assert exported.headers["content-disposition"].startswith("attachment")
    assert exported.json() == [declaration]  # as given, the signature kept
    bad = {"declaration": ("bad.json", '{"all": "false"}', "application/json")}
    refused = client.post("/claims/declarations", data={"csrf_token": csrf}, files=bad)
    assert refused.status_code == 400
    assert "bad.json: field &#39;iscc&#39; is required" in refused.text
    assert client.post("/claims/declarations", files=files).status_code == 403  # no CSRF
    assert len(re.findall(r'href="/claims/[0-9a-f]{32}"', client.get("/claims").text)) == 1
