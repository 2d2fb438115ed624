"""Fuzz every ``/api/registry`` operation from its OpenAPI document: never a 5xx.

Cases are drawn by schemathesis from the published schema (in-process ASGI), with and
without a valid bearer token, so malformed bodies, odd strings and unknown ids all hit the
service. Any error must come back in the stable ``{"error": {...}}`` shape.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from traindex.config import Settings
from traindex.server.app import create_app


@pytest.mark.slow
def test_registry_api_never_fails_with_a_server_error(tmp_path: Path) -> None:
    home = Settings(
        home=tmp_path / "home", registry_rate_per_second=1e6, registry_rate_burst=1_000_000
    )
    app = create_app(home)
    token = TestClient(app).post("/api/registry/owners", json={"name": "fuzz"}).json()["token"]
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [
        r.ok() for r in schema.include(path_regex=r"^/api/registry/").get_all_operations()
    ]
    assert len(operations) >= 10
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case: schemathesis.Case) -> None:
            for headers in ({}, {"Authorization": f"Bearer {token}"}):
                response = case.call(headers=headers)
                assert response.status_code < 500, (case.method, case.path, response.text[:300])
                if response.status_code >= 400:
                    assert set(response.json()) == {"error"}, response.text[:300]

        check()
