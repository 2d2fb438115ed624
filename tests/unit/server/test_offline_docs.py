"""``/docs`` must work on an offline machine: its assets come from this server, not a CDN."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from traindex.config import Settings
from traindex.server.app import create_app


def test_docs_page_loads_swagger_from_this_server(settings: Settings) -> None:
    client = TestClient(create_app(settings))
    page = client.get("/docs")
    assert page.status_code == 200
    sources = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    assert sources, "the docs page references no assets"
    for source in sources:
        assert source.startswith("/"), f"/docs loads {source} from another host"
        assert client.get(source).status_code == 200, source
    assert client.get("/openapi.json").json()["info"]["title"] == "traindex"
