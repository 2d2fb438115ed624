"""The JSON API against its own OpenAPI document (schemathesis, in-process ASGI): no 5xx.

Covers this issue's endpoints (search, datasets, rows) and ``/healthz``; cases are drawn
from the published schema, so an undocumented field or status shows up as a failure.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from traindex.config import Settings
from traindex.demo import build_demo
from traindex.server.app import create_app

_OURS = r"^/(api/(search|datasets|rows/.*)|healthz)$"


@pytest.mark.slow
def test_no_server_errors(tmp_path: Path) -> None:
    home = Settings(home=tmp_path / "home", web_max_request_bytes=200_000)
    build_demo(home, None)
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(home))
    operations = [r.ok() for r in schema.include(path_regex=_OURS).get_all_operations()]
    assert {op.path for op in operations} >= {"/api/search", "/api/datasets"}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case: schemathesis.Case) -> None:
            response = case.call()
            assert response.status_code < 500, (case.method, case.path, response.text[:300])

        check()
