"""Evidence fixtures: the real demo catalog (LAION-400M rows, CC3M img2dataset photos with
their credits, the pip-shipped Flickr photos), a fixed signing key, and query images."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image

from traindex.config import Settings
from traindex.core.signing import Signer
from traindex.demo import build_demo, demo_images
from traindex.evidence.service import EvidenceService, RenderedReport

CC3M = "_generated/img2dataset-1.47.0-output-cc3m-test-images"
CREDITS = "conceptual-captions/competition/skeleton/conceptual-captions/test_images/credits.csv"
UNRELATED = "clip-retrieval/tests/test_clip_inference/test_images/389_535.jpg"


@pytest.fixture(scope="session")
def cc3m_dir(shared_data: Path) -> Path:
    """Real img2dataset 1.47 output of the 18 CC BY 2.0 CC3M Flickr photos."""
    return shared_data / CC3M


@pytest.fixture(scope="session")
def credits_csv(shared_data: Path) -> Path:
    """The photographers' credits of those photos (Open Images credit format)."""
    return shared_data / CREDITS


@pytest.fixture(scope="session")
def demo_settings(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Settings:
    """One real demo catalog per test worker (ingest + fingerprints take a few seconds)."""
    settings = Settings(home=tmp_path_factory.mktemp("evidence") / "home")
    build_demo(settings, shared_data)
    return settings


@pytest.fixture(scope="session")
def signer() -> Signer:
    return Signer(Ed25519PrivateKey.from_private_bytes(bytes(range(32))), None)


@pytest.fixture(scope="session")
def resized_cc3m(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    """A CC3M photo as a creator might find it: half size, re-encoded (not the same bytes)."""
    with tarfile.open(shared_data / CC3M / "webdataset/00000.tar") as tar:
        member = tar.extractfile("000000.jpg")
        assert member is not None
        image = Image.open(io.BytesIO(member.read())).convert("RGB")
    image = image.resize((image.width // 2, image.height // 2))
    path = tmp_path_factory.mktemp("query") / "fireworks-small.jpg"
    image.save(path, "JPEG", quality=60)
    return path


@pytest.fixture(scope="session")
def portfolio(demo_settings: Settings, resized_cc3m: Path, shared_data: Path) -> list[Path]:
    """Two exact files, one edited copy and one photo that is in no dataset."""
    images = demo_images(demo_settings)
    return [images / "china.jpg", images / "flower.jpg", resized_cc3m, shared_data / UNRELATED]


@pytest.fixture(scope="session")
def rendered(demo_settings: Settings, signer: Signer, portfolio: list[Path]) -> RenderedReport:
    """A signed report over a portfolio search and a Flickr account search."""
    from traindex.search.queries import Query

    service = EvidenceService(demo_settings, signer)
    runs = [
        service.search_images(portfolio),
        service.search_query(Query("flickr_user", "sneakerdog")),
    ]
    return service.report(runs, "Jane Doe, photographer")


@pytest.fixture(scope="session")
def cli() -> Callable[..., str]:
    """Run ``traindex --home HOME ARGS...`` in-process; assert the exit code, return output."""
    from typer.testing import CliRunner

    from traindex.cli.main import app

    runner = CliRunner()

    def run(settings: Settings, *args: str, code: int = 0) -> str:
        result = runner.invoke(app, ["--home", str(settings.home), *args])
        assert result.exit_code == code, result.output
        return result.output

    return run


@pytest.fixture(scope="session")
def empty_search() -> dict[str, object]:
    """A `traindex search --json` answer that found nothing (a report needs no catalog)."""
    return {
        "query": {"kind": "url", "value": "https://example.com/a.jpg"},
        "total": 0,
        "matches": [],
    }
