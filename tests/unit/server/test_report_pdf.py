"""The web app's report download is a PAdES-signed PDF (same service as CLI and API)."""

from __future__ import annotations

import io
import re

from fastapi.testclient import TestClient
from pypdf import PdfReader

from traindex.evidence.pades import check_pdf_signature


def test_web_report_download_is_a_signed_pdf(client: TestClient) -> None:
    html = client.get("/search", params={"q": "danielbuechele", "kind": "flickr_user"}).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    form = re.search(r'<form method="post" action="/report".*?</form>', html, re.DOTALL)
    assert form is not None
    assert '<option value="nl">Nederlands</option>' in form.group(0)  # the first page's language
    fields = {"kind": "flickr_user", "value": "danielbuechele", "format": "pdf", "lang": "nl"}
    report = client.post("/report", data={**fields, "csrf_token": csrf})
    assert report.status_code == 200
    first = " ".join(PdfReader(io.BytesIO(report.content)).pages[0].extract_text().split())
    assert "Wat is vergeleken" in first
    keys = client.get("/.well-known/traindex-keys.json").json()["keys"]
    current = next(k for k in keys if k["retired_at"] is None)
    check = check_pdf_signature(report.content, current["pdf_certificate"].encode())
    assert check.ok, check
    assert current["fingerprint"] in check.signer
