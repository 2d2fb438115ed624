"""A demo catalog (real LAION-400M, CC3M img2dataset and COYO rows, real photos) per worker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from traindex.config import Settings
from traindex.demo import build_demo, demo_images
from traindex.server.app import create_app


@pytest.fixture(scope="session")
def demo_settings(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Settings:
    settings = Settings(
        home=tmp_path_factory.mktemp("web") / "home",
        web_page_size=5,
        web_max_files=3,
        web_max_file_bytes=300_000,
        web_max_request_bytes=1_000_000,
        web_max_pixels=4_000_000,
    )
    build_demo(settings, shared_data)
    return settings


@pytest.fixture(scope="session")
def photos(demo_settings: Settings) -> Path:
    """The demo's real photos (china.jpg, flower.jpg, astronaut.png, rocket.jpg, ...)."""
    return demo_images(demo_settings)


@pytest.fixture(scope="session")
def client(demo_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(demo_settings)) as test_client:
        yield test_client
