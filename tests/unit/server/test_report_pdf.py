"""The web app's report download is a PAdES-signed PDF (same service as CLI and API)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from traindex.evidence.pades import check_pdf_signature


def test_web_report_download_is_a_signed_pdf(client: TestClient) -> None:
    html = client.get("/search", params={"q": "danielbuechele", "kind": "flickr_user"}).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    fields = {"kind": "flickr_user", "value": "danielbuechele", "format": "pdf", "lang": "nl"}
    report = client.post("/report", data={**fields, "csrf_token": csrf})
    assert report.status_code == 200
    keys = client.get("/.well-known/traindex-keys.json").json()["keys"]
    current = next(k for k in keys if k["retired_at"] is None)
    check = check_pdf_signature(report.content, current["pdf_certificate"].encode())
    assert check.ok, check
    assert current["fingerprint"] in check.signer
