"""The evidence endpoints against their own OpenAPI document (schemathesis): no 5xx."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Ok

from traindex.config import Settings
from traindex.demo import build_demo
from traindex.server.app import create_app


@pytest.mark.slow
def test_no_server_errors(tmp_path: Path) -> None:
    home = Settings(home=tmp_path / "home")
    build_demo(home, None)
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(home))
    selected = schema.include(path_regex=r"^/api/evidence/")
    results = list(selected.get_all_operations())
    operations = [r.ok() for r in results if isinstance(r, Ok)]
    assert len(operations) == len(results)  # the schema itself is valid
    assert {op.path for op in operations} == {
        "/api/evidence/report", "/api/evidence/verify", "/api/evidence/letter",
        "/api/evidence/licenses", "/api/evidence/public-key",
    }  # fmt: skip
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case: schemathesis.Case[Any]) -> None:
            response = case.call()
            assert response.status_code < 500, (case.method, case.path, response.text[:300])

        check()
