"""The near-copy page's report buttons, two checks at once, and the upload limits' errors.

Report downloads: the results page carries the rendered report signed with the app's
secret; ``POST /nearcopy/report`` turns it into HTML or a PAdES-signed PDF, behind the
page's CSRF token and a per-client rate limit, and refuses a token it did not sign.
Concurrency and limits run against the real app on 127.0.0.1 (uvicorn in a thread).
"""

from __future__ import annotations

import io
import re
import threading
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from traindex.config import Settings
from traindex.evidence.pades import check_pdf_signature
from traindex.server.app import create_app
from traindex.server.running import serve_in_thread

from .conftest import TrainingSet, edits

pytestmark = pytest.mark.shared


def _field(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]+)"', html)
    assert found is not None, name
    return found.group(1)


def _upload(set_: TrainingSet, index: int) -> tuple[str, bytes]:
    """A re-rendered training photo (a ``copy``) named after its caption."""
    name, photo = set_.training[index]
    return f"{name}.jpg", edits.jpeg(photo.resize((photo.width // 2, photo.height // 2)), 80)


def _checked_page(client: TestClient, set_: TrainingSet) -> str:
    csrf = _field(client.get("/nearcopy").text, "csrf_token")
    novel = edits.jpeg(set_.novel[0][1], 80)
    files = [("image", _upload(set_, 2)), ("image", ("novel.jpg", novel))]
    page = client.post("/nearcopy", data={"csrf_token": csrf}, files=files)
    assert page.status_code == 200, page.text
    return page.text


def test_report_buttons_give_the_html_and_a_signed_pdf(training_set: TrainingSet) -> None:
    with TestClient(create_app(training_set.settings)) as client:
        page = _checked_page(client, training_set)
        form = {"csrf_token": _field(page, "csrf_token"), "report": _field(page, "report")}
        html = client.post("/nearcopy/report", data={**form, "format": "html"})
        pdf = client.post("/nearcopy/report", data={**form, "format": "pdf"})
        keys = client.get("/.well-known/traindex-keys.json").json()["keys"]
    assert html.status_code == 200
    assert html.headers["content-disposition"] == 'attachment; filename="traindex-nearcopy.html"'
    name = training_set.training[2][0]
    assert re.search(rf'{name}.jpg</code><br>\s*<span class="verdict copy">', html.text)
    assert re.search(r'novel.jpg</code><br>\s*<span class="verdict novel">', html.text)
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    current = next(k for k in keys if k["retired_at"] is None)
    check = check_pdf_signature(pdf.content, current["pdf_certificate"].encode())
    assert check.ok, check
    assert current["fingerprint"] in check.signer


def test_a_report_this_site_did_not_sign_is_refused(training_set: TrainingSet) -> None:
    with TestClient(create_app(training_set.settings)) as client:
        page = _checked_page(client, training_set)
        csrf, token = _field(page, "csrf_token"), _field(page, "report")
        edited = token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB")
        forged = client.post(
            "/nearcopy/report", data={"csrf_token": csrf, "report": edited, "format": "pdf"}
        )
        no_csrf = client.post("/nearcopy/report", data={"report": token, "format": "html"})
        bad_format = client.post(
            "/nearcopy/report", data={"csrf_token": csrf, "report": token, "format": "docx"}
        )
    assert forged.status_code == 400
    assert "this report was not made by this site" in forged.text
    assert no_csrf.status_code == 403
    assert bad_format.status_code == 400
    assert "html or pdf, not &#39;docx&#39;" in bad_format.text


def test_report_downloads_are_rate_limited(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", api_expensive_burst=1)
    with TestClient(create_app(settings)) as client:
        csrf = _field(client.get("/nearcopy").text, "csrf_token")
        form = {"csrf_token": csrf, "report": "x", "format": "html"}
        first = client.post("/nearcopy/report", data=form)
        second = client.post("/nearcopy/report", data=form)
    assert first.status_code == 400  # admitted, then refused: not a token of this site
    assert second.status_code == 429
    assert "too many report requests" in second.text


def _post(url: str, files: list[tuple[str, Any]], out: dict[str, httpx.Response], key: str,
          start: threading.Barrier) -> None:  # fmt: skip
    start.wait()
    out[key] = httpx.post(f"{url}/api/nearcopy", files=files, timeout=300)


def test_two_checks_at_once_each_get_their_own_answer(training_set: TrainingSet) -> None:
    """Two clients upload at the same moment to the real server; each answer is about its
    own images (the check runs one at a time; nothing is mixed up or dropped)."""
    uploads = {
        "a": [("image", _upload(training_set, 0)), ("image", _upload(training_set, 5))],
        "b": [("image", _upload(training_set, 7)), ("image", ("new.jpg", edits.jpeg(
            training_set.novel[3][1], 80)))],
    }  # fmt: skip
    answers: dict[str, httpx.Response] = {}
    start = threading.Barrier(2)
    with serve_in_thread(create_app(training_set.settings)) as url:
        threads = [
            threading.Thread(target=_post, args=(url, files, answers, key, start))
            for key, files in uploads.items()
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    for key, files in uploads.items():
        assert answers[key].status_code == 200, answers[key].text
        results = answers[key].json()["results"]
        assert [r["image"] for r in results] == [f[1][0] for f in files]
        for result in results:
            if result["image"] == "new.jpg":
                assert result["verdict"] == "novel"
            else:
                assert result["verdict"] == "copy"
                assert f"{result['matches'][0]['caption']}.jpg" == result["image"]


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture
def small_limits(training_set: TrainingSet) -> Settings:
    """The training release with low upload limits (a copy of its settings)."""
    limits = {"web_max_files": 3, "web_max_file_bytes": 200_000}
    return training_set.settings.model_copy(update={**limits, "web_max_request_bytes": 2_000_000})


def test_upload_limits_give_clear_errors_on_the_api_and_the_page(
    training_set: TrainingSet, small_limits: Settings
) -> None:
    _, copy = _upload(training_set, 0)
    bomb = _zip({"bomb.png": b"\0" * 1_000_000, "a.jpg": copy})
    big = edits.jpeg(training_set.training[0][1].resize((3000, 2000)), 95)
    assert len(big) > 200_000
    with serve_in_thread(create_app(small_limits)) as url:
        many = [("image", (f"{i}.jpg", copy)) for i in range(4)]
        too_many = httpx.post(f"{url}/api/nearcopy", files=many, timeout=60)
        huge = httpx.post(
            f"{url}/api/nearcopy", files=[("image", ("x.jpg", b"\0" * 2_100_000))], timeout=60
        )
        mixed = httpx.post(
            f"{url}/api/nearcopy",
            files=[("image", ("folder.zip", bomb)), ("image", ("big.jpg", big))],
            timeout=120,
        )
        with httpx.Client(base_url=url, timeout=60) as browser:
            csrf = _field(browser.get("/nearcopy").text, "csrf_token")
            page = browser.post("/nearcopy", data={"csrf_token": csrf}, files=many)
    assert too_many.status_code == 413
    assert "at most 3 images per check" in too_many.json()["detail"]
    assert huge.status_code == 413
    assert "over the 2.0 MB limit per check" in huge.json()["detail"]
    assert mixed.status_code == 200, mixed.text
    results = mixed.json()["results"]
    errors = {r["image"]: r["error"] for r in results if "error" in r}
    assert "zip bomb" in errors["folder.zip/bomb.png"]
    assert "over the 0.2 MB limit" in errors["big.jpg"]
    checked = {r["image"]: r["verdict"] for r in results if "error" not in r}
    assert checked == {"folder.zip/a.jpg": "copy"}  # the rest of the folder is still checked
    assert page.status_code == 413
    assert "at most 3 images per check" in page.text
