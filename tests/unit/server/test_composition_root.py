"""The web app builds its services once (``bootstrap.Services``, ``app.state.services``):
pages, JSON routes, image uploads and reports all read one ``Catalog``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from traindex.bootstrap import Services
from traindex.catalog.store import Catalog
from traindex.config import Settings
from traindex.search.queries import Query
from traindex.server.app import create_app

pytestmark = pytest.mark.shared


def test_one_catalog_serves_every_route(
    demo_settings: Settings, photos: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[Catalog] = []
    original = Catalog.__init__

    def counting(self: Catalog, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(Catalog, "__init__", counting)
    app = create_app(demo_settings)
    services = app.state.services
    assert isinstance(services, Services)
    with TestClient(app) as client:
        assert client.get("/healthz").json()["datasets"]
        assert client.get("/api/datasets").status_code == 200
        assert client.get("/").status_code == 200
        assert client.get("/datasets").status_code == 200
        found = client.post("/api/search", data={"text": "kitten"}).json()
        upload = {"files": ("china.jpg", (photos / "china.jpg").read_bytes(), "image/jpeg")}
        by_image = client.post("/api/search", files=upload).json()
        report = client.post(
            "/api/evidence/report",
            json={"query": {"kind": "domain", "value": "staticflickr.com"}, "format": "json"},
        )
    assert made == [services.catalog]
    assert found["matches"] == [
        m.to_json() for m in services.search.search(Query("text", "kitten"), limit=5).matches
    ]
    assert by_image["matches"]  # the demo holds china.jpg
    assert report.status_code == 200, report.text
    limits = services.search.image_limits
    assert (limits.max_pixels, limits.max_file_bytes) == (4_000_000, 300_000)
