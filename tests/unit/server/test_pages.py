"""Server-rendered pages: plain GET forms, grouped results, row detail, datasets."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.shared


def _imgs(html: str) -> list[str]:
    return re.findall(r"<img [^>]*src=\"([^\"]*)\"", html)


def test_text_search_highlights_words_without_javascript(client: TestClient) -> None:
    response = client.get("/search", params={"q": "danielbuechele"})
    assert response.status_code == 200
    assert "Caption mentions" in response.text
    assert "<mark>danielbuechele</mark>" in response.text
    assert "script-src 'self'" in response.headers["content-security-policy"]


def test_every_image_on_a_results_page_is_served_by_the_app(client: TestClient) -> None:
    for query in ({"q": "staticflickr.com"}, {"q": "kitten"}, {"q": "sneakerdog"}):
        html = client.get("/search", params=query).text
        assert all(src.startswith("/thumbs/") for src in _imgs(html)), query
    page = client.get("/search", params={"q": "sneakerdog", "kind": "flickr_user"}).text
    assert _imgs(page), "fingerprinted img2dataset rows have thumbnails"


def test_domain_results_paginate_with_counts(client: TestClient) -> None:
    first = client.get("/search", params={"q": "staticflickr.com"}).text
    total = int(re.search(r"([\d,]+) match\(es\) for domain", first).group(1))  # type: ignore[union-attr]
    assert "Showing 1\u20135 of" in first
    assert 'rel="next"' in first
    last_offset = (total - 1) // 5 * 5
    last = client.get("/search", params={"q": "staticflickr.com", "offset": last_offset}).text
    assert f"Showing {last_offset + 1}\u2013{total} of {total}" in last
    assert 'rel="next"' not in last
    assert 'rel="prev"' in last


def test_empty_state_says_what_was_searched(client: TestClient) -> None:
    html = client.get("/search", params={"q": "zzqxv-nothing", "kind": "text"}).text
    assert "Nothing found" in html
    assert "zzqxv" in html
    assert "Try:" in html


def test_bad_input_rerenders_the_form_with_the_reason(client: TestClient) -> None:
    response = client.get("/search", params={"q": "co.uk", "kind": "domain"})
    assert response.status_code == 400
    assert "public suffix" in response.text
    assert 'id="query-form"' in response.text


def test_row_detail_and_missing_rows(client: TestClient) -> None:
    html = client.get("/rows/cc3m-img2dataset/demo", params={"shard": "00000.tar", "row": 0}).text
    assert "/thumbs/cc3m-img2dataset/demo/" in html
    assert client.get("/rows/nope/demo", params={"shard": "x", "row": 0}).status_code == 404
    assert (
        client.get("/rows/demo-photos/demo", params={"shard": "other.csv", "row": 0}).status_code
        == 404
    )


def test_datasets_page_shows_coverage(client: TestClient) -> None:
    html = client.get("/datasets").text
    assert "cc3m-img2dataset" in html
    assert "100.0%" in html
    assert "laion400m-sample" in html
    assert "0.0%" in html


def test_static_files_are_a_fixed_set(client: TestClient) -> None:
    assert client.get("/static/app.css").headers["content-type"].startswith("text/css")
    assert client.get("/static/..%2Fpages.py").status_code == 404
    assert client.get("/static/pages.py").status_code == 404


def test_results_and_rows_offer_a_signed_report(client: TestClient) -> None:
    html = client.get("/search", params={"q": "danielbuechele", "kind": "flickr_user"}).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    fields = {"kind": "flickr_user", "value": "danielbuechele", "format": "html"}
    refused = client.post("/report", data=fields)
    assert refused.status_code == 403
    report = client.post("/report", data={**fields, "csrf_token": csrf})
    assert report.status_code == 200
    assert report.headers["content-disposition"].endswith('traindex-report.html"')
    assert "6061409035" in report.text
    row = client.get("/rows/demo-photos/demo", params={"shard": "photos.csv", "row": 0}).text
    assert 'action="/report"' in row
    assert 'action="/letter"' in row


def test_results_offer_a_request_letter_listing_the_rows(client: TestClient) -> None:
    html = client.get("/search", params={"q": "danielbuechele", "kind": "flickr_user"}).text
    assert 'action="/letter"' in html
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    fields = {"kind": "flickr_user", "value": "danielbuechele", "letter": "gdpr-access"}
    refused = client.post("/letter", data={**fields, "lang": "de", "format": "md"})
    assert refused.status_code == 403
    letter = client.post(
        "/letter", data={**fields, "lang": "de", "format": "md", "csrf_token": csrf}
    )
    assert letter.status_code == 200
    assert letter.headers["content-disposition"].endswith('traindex-gdpr-access-de.md"')
    assert "Art. 15" in letter.text
    assert "6061409035" in letter.text
    wrong = client.post(
        "/letter", data={**fields, "lang": "fr", "format": "md", "csrf_token": csrf}
    )
    assert wrong.status_code == 400
    assert "en, de, nl" in wrong.text


def test_what_was_searched_is_escaped(client: TestClient) -> None:
    html = client.get("/search", params={"q": "<script>alert(1)</script>", "kind": "text"}).text
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_every_form_carries_the_sessions_csrf_token(client: TestClient, photos: Path) -> None:
    pages = [
        client.get("/search", params={"q": "danielbuechele", "kind": "flickr_user"}).text,
        client.get("/rows/demo-photos/demo", params={"shard": "photos.csv", "row": 0}).text,
    ]
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', pages[0]).group(1)  # type: ignore[union-attr]
    with (photos / "china.jpg").open("rb") as fh:
        files = {"image": ("china.jpg", fh, "image/jpeg")}
        pages.append(client.post("/search", data={"csrf_token": csrf}, files=files).text)
    for html in pages:
        tokens = re.findall(r'name="csrf_token" value="([^"]*)"', html)
        assert 'action="/report"' in html
        assert 'action="/letter"' in html
        assert tokens
        assert set(tokens) == {csrf}


def test_image_results_carry_a_signed_result_for_the_report(
    client: TestClient, photos: Path
) -> None:
    html = client.get("/").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    with (photos / "china.jpg").open("rb") as fh:
        files = {"image": ("china.jpg", fh, "image/jpeg")}
        page = client.post("/search", data={"csrf_token": csrf}, files=files).text
    token = re.search(r'name="result" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    fields = {"csrf_token": csrf, "result": token, "format": "json"}
    report = json.loads(client.post("/report", data=fields).content)["report"]
    assert [q["value"] for q in report["queries"]] == ["china.jpg"]
    assert report["queries"][0]["image"]["sha256"]
    assert {m["source_file"] for m in report["matches"]} >= {"photos.csv"}
    forged = client.post("/report", data={**fields, "result": token[:-4] + "AAAA"})
    assert forged.status_code == 400
    assert "not made by this site" in forged.text


def test_a_large_signed_result_fits_the_report_form(client: TestClient, photos: Path) -> None:
    """A portfolio's result token may exceed the 256 KB of a search form; the report reads
    it (and refuses the forged one) instead of calling it an oversized upload."""
    html = client.get("/").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    forged = {"csrf_token": csrf, "result": "x" * 400_000, "format": "json"}
    answer = client.post("/report", data=forged)
    assert answer.status_code == 400
    assert "not made by this site" in answer.text
