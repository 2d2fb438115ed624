"""The lawyer's page: the PDF's first page, in the requested language, says what was
compared and covered, which method found the rows, and how to check everything."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from traindex.config import Settings
from traindex.server.app import create_app

pytestmark = pytest.mark.shared

EXPECTED = {
    "en": ("What was compared", "How to check this report independently", "clock of the"),
    "de": ("Was verglichen wurde", "unabhängig prüfen", "Uhr des Rechners"),
    "nl": ("Wat is vergeleken", "onafhankelijk te controleren", "klok van"),
}


@pytest.fixture(scope="module")
def client(demo_settings: Settings) -> TestClient:
    return TestClient(create_app(demo_settings))


@pytest.mark.parametrize("lang", ["en", "de", "nl"])
def test_first_page_in_the_letter_language(client: TestClient, lang: str) -> None:
    made = client.post(
        "/api/evidence/report",
        json={
            "query": {"kind": "flickr_user", "value": "sneakerdog"},
            "format": "pdf",
            "lang": lang,
        },
    )
    assert made.status_code == 200
    pages = PdfReader(io.BytesIO(made.content)).pages
    first = " ".join(pages[0].extract_text().split())
    for phrase in EXPECTED[lang]:
        assert phrase in first
    assert "Flickr account (1" in first  # the method and how many rows it found
    assert "--against" in first  # how to check the rows against the published file
    assert "Evidence report: training-dataset rows" not in first  # the tables start on page 2
    fingerprint = client.get("/api/evidence/public-key").json()["fingerprint"]
    assert fingerprint in first
