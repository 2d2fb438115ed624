"""Fixtures shared by every test layer.

``shared_data`` points at ``../shared/data``. Locally a missing folder skips the tests that
need it; in CI (``TRAINDEX_REQUIRE_SHARED=1``) it fails them, so real-data tests can never
silently stop running.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from traindex.config import Settings

# Tests never depend on timing: a slow CI machine must not turn into a failure.
hypothesis_settings.register_profile("traindex", deadline=None)
hypothesis_settings.load_profile("traindex")

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if SHARED_DATA.is_dir():
        return SHARED_DATA
    message = f"../shared/data not found at {SHARED_DATA}"
    if os.environ.get("TRAINDEX_REQUIRE_SHARED") == "1":
        pytest.fail(message + " (TRAINDEX_REQUIRE_SHARED=1)")
    pytest.skip(message)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A fresh, empty home per test."""
    return Settings(home=tmp_path / "home")
