"""A training release of real photos, fingerprinted and region-indexed by the real jobs.

14 distinct real photos are the training set (a LAION "-joined"-style parquet: URL, TEXT,
hash, pwatermark, punsafe; every third row has pwatermark 0.9); the other 13 are novel.
Built once per session (read-only afterwards) because ingest + fingerprint take seconds.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
from PIL import Image

from traindex.config import Settings


def _load_edits() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "nearcopy_edits", Path(__file__).with_name("edits.py")
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


edits = _load_edits()
TRAINING = 14


@dataclass(frozen=True)
class TrainingSet:
    settings: Settings
    images: Path
    training: list[tuple[str, Image.Image]]
    novel: list[tuple[str, Image.Image]]
    watermarked: set[str]


@pytest.fixture(scope="session")
def training_set(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> TrainingSet:
    photos = edits.real_photos(shared_data)
    root = tmp_path_factory.mktemp("nearcopy")
    settings = edits.build_release(root / "home", root / "images", photos[:TRAINING])
    watermarked = {name for i, (name, _) in enumerate(photos[:TRAINING]) if i % 3 == 0}
    return TrainingSet(settings, root / "images", photos[:TRAINING], photos[TRAINING:], watermarked)


@pytest.fixture(scope="session")
def keypoint_set(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> TrainingSet:
    """The same training photos as ``training_set``, fingerprinted with keypoints too."""
    photos = edits.real_photos(shared_data)
    root = tmp_path_factory.mktemp("nearcopy-keypoints")
    settings = edits.build_release(
        root / "home", root / "images", photos[:TRAINING], keypoints=True
    )
    return TrainingSet(settings, root / "images", photos[:TRAINING], photos[TRAINING:], set())
