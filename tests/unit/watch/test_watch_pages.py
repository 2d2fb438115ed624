"""The "My watches" pages through the real app: sign in, add, alerts, one-click evidence."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.unit.server.test_optout_pages import _csrf, _signup

from traindex.config import Settings
from traindex.ingest.pipeline import ingest
from traindex.server.app import create_app

pytestmark = pytest.mark.shared


@pytest.fixture
def client(tmp_path: Path, parts: tuple[Path, Path]) -> Iterator[TestClient]:
    settings = Settings(home=tmp_path / "home")
    ingest(settings, parts[0], dataset="cc", release="main")
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _add(client: TestClient, kind: str, value: str) -> str:
    csrf = _csrf(client.get("/watches").text)
    response = client.post("/watches", data={"kind": kind, "value": value, "csrf_token": csrf})
    return response.text


def test_signed_out_visitors_are_sent_to_sign_in(client: TestClient) -> None:
    response = client.get("/watches", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/signin")


def test_add_a_watch_see_its_alerts_and_get_a_report_of_the_row(client: TestClient) -> None:
    _signup(client, "Chris Parfitt")
    page = _add(client, "text", "Laugharne Castle")
    assert "captions mentioning Laugharne Castle" in page
    assert "part1.csv, row 3" in page
    alert_path = re.search(r'href="(/watches/alerts/\d+)"', page)
    assert alert_path is not None
    alert = client.get(alert_path.group(1)).text
    assert 'href="/rows/cc/main?shard=part1.csv&amp;row=3"' in alert
    assert 'id="claim-url-link"' in alert
    assert "/claims/new?kind=url&amp;value=https" in alert
    token = re.search(r'name="result" value="([^"]+)"', alert)
    assert token is not None
    report = client.post("/report", data={"csrf_token": _csrf(alert), "result": token.group(1),
                                          "format": "json"})  # fmt: skip
    assert report.status_code == 200, report.text
    rows = [(m["source_file"], m["row"]) for m in json.loads(report.content)["report"]["matches"]]
    assert rows == [("part1.csv", 3)]


def test_owners_see_only_their_own_watches_and_alerts(client: TestClient) -> None:
    _signup(client, "Jane")
    page = _add(client, "domain", "staticflickr.com")
    alert_path = re.search(r'href="(/watches/alerts/\d+)"', page)
    assert alert_path is not None
    client.cookies.clear()
    _signup(client, "Mallory")
    assert "staticflickr.com" not in client.get("/watches").text
    assert "not one of your watches" in client.get(alert_path.group(1)).text


def test_image_watches_are_not_added_from_the_web(client: TestClient, tmp_path: Path) -> None:
    _signup(client, "Jane")
    page = _add(client, "images", str(tmp_path))
    assert "traindex watch add" in page
    assert 'id="no-watches"' in page


def test_a_form_without_the_csrf_token_is_refused(client: TestClient) -> None:
    _signup(client, "Jane")
    response = client.post("/watches", data={"kind": "domain", "value": "example.com"})
    assert response.status_code == 403
    assert 'id="no-watches"' in client.get("/watches").text


def _edit(client: TestClient, page: str, **fields: str) -> str:
    watch = re.search(r'name="watch" value="([0-9a-f]+)"', page)
    assert watch is not None
    data = {"watch": watch.group(1), "csrf_token": _csrf(page), **fields}
    return client.post("/watches/edit", data=data).text


def test_owners_change_where_alerts_go_and_keep_what_was_found(client: TestClient) -> None:
    _signup(client, "Jane")
    page = _add(client, "domain", "staticflickr.com")
    found = page.count("Report, letter, opt out")
    assert found == 9
    page = _edit(client, page, email="jane@example.org", webhook="")
    assert "e-mails to jane@example.org" in page
    assert page.count("Report, letter, opt out") == found
    page = _edit(client, page, email="not-an-address", webhook="")
    assert "not an e-mail address" in page
    assert "e-mails to jane@example.org" in client.get("/watches").text  # unchanged
    page = _edit(client, client.get("/watches").text, email="", webhook="")
    assert "e-mails to" not in page

    # another owner cannot edit it, nor can a form without the CSRF token
    client.cookies.clear()
    _signup(client, "Mallory")
    theirs = re.search(r'name="watch" value="([0-9a-f]+)"', page)
    assert theirs is not None
    mine = client.get("/watches").text
    data = {"watch": theirs.group(1), "csrf_token": _csrf(mine), "email": "m@example.org"}
    assert "not one of your watches" in client.post("/watches/edit", data=data).text
    del data["csrf_token"]
    assert client.post("/watches/edit", data=data).status_code == 403
