"""The built-in demo: a catalog from real sample photos and dataset rows.

Always available (from pip packages): the CC BY / CC0 / public-domain photos shipped in
scikit-learn and scikit-image, described by ``photos.csv`` (their real sources, authors
and licences). When ``../shared/data`` is present, the real LAION-400M rows, the
img2dataset output of 18 CC BY 2.0 Flickr photos and the COYO-700M preview rows are
ingested too.
"""

from __future__ import annotations

import csv
import os
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from PIL import Image

from traindex.catalog.indexes.tiles import index_tiles
from traindex.config import Settings
from traindex.fingerprint.keypoints import KeypointOptions
from traindex.ingest.base import ReaderOptions
from traindex.ingest.pipeline import IngestReport, ingest
from traindex.ingest.shards import IngestListener
from traindex.jobs.fingerprint import fingerprint

__all__ = [
    "DEMO_CROP_KEEP",
    "DemoSource",
    "build_demo",
    "demo_crop",
    "demo_images",
    "demo_photo_path",
    "demo_sources",
    "find_shared_data",
]


@dataclass(frozen=True, slots=True)
class DemoSource:
    dataset: str
    path: Path
    fmt: str | None = None
    columns: tuple[tuple[str, str], ...] = ()


def find_shared_data() -> Path | None:
    """``$TRAINDEX_SHARED_DATA``, else ``../shared/data`` next to the working directory."""
    env = os.environ.get("TRAINDEX_SHARED_DATA")
    candidates = [Path(env)] if env else [Path.cwd().parent / "shared" / "data"]
    return next((p for p in candidates if p.is_dir()), None)


def demo_photo_path(spec: str) -> Path:
    """``sklearn:china.jpg`` or ``skimage:astronaut.png`` -> the file in the installed package."""
    package, _, name = spec.partition(":")
    folder = {"sklearn": "sklearn.datasets.images", "skimage": "skimage.data"}[package]
    return Path(str(resources.files(folder).joinpath(name)))


def demo_sources(shared: Path | None) -> list[DemoSource]:
    photos = Path(str(resources.files("traindex.demo").joinpath("photos.csv")))
    sources = [
        DemoSource("demo-photos", photos, "table", (("flickr_owner", "owner"), ("key", "file")))
    ]
    if shared is not None:
        sources += [
            DemoSource(
                "laion400m-sample", shared / "img2dataset/tests/test_files/test_10000.parquet"
            ),
            DemoSource(
                "cc3m-img2dataset",
                shared / "_generated/img2dataset-1.47.0-output-cc3m-test-images/webdataset",
            ),
            DemoSource(
                "coyo700m-preview",
                shared / "_generated/coyo-700m-readme-preview/coyo700m_readme_preview.parquet",
            ),
        ]
    return sources


def demo_images(settings: Settings) -> Path:
    """Copy the demo photos out of their pip packages into ``<home>/demo-images``."""
    folder = settings.home / "demo-images"
    folder.mkdir(parents=True, exist_ok=True)
    photos = Path(str(resources.files("traindex.demo").joinpath("photos.csv")))
    with photos.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            target = folder / row["file"]
            if not target.exists():
                shutil.copyfile(demo_photo_path(row["photo"]), target)
    return folder


def build_demo(
    settings: Settings, shared: Path | None, listener: IngestListener | None = None
) -> list[IngestReport]:
    """Ingest every demo source and fingerprint the ones with images (re-runs skip work).

    Bad rows are logged, not fatal: one real LAION-400M row in the sample is column-shifted.
    """
    reports = [
        ingest(
            settings,
            src.path,
            dataset=src.dataset,
            release="demo",
            fmt=src.fmt,
            options=ReaderOptions(columns=dict(src.columns)),
            skip_bad_rows=True,
            listener=listener,
        )
        for src in demo_sources(shared)
    ]
    points = KeypointOptions()  # small sets: the demo also finds heavy crops and stickers
    fingerprint(settings, "demo-photos", images=demo_images(settings), workers=1, keypoints=points)
    # the near-copy check's region index: `traindex nearcopy` works on the demo catalog too
    index_tiles(settings, "demo-photos", images=demo_images(settings))
    if shared is not None:
        fingerprint(settings, "cc3m-img2dataset", workers=1, keypoints=points)
        index_tiles(settings, "cc3m-img2dataset")
    return reports


DEMO_CROP_KEEP = 0.7
"""Share of each side the demo crop keeps. Measured on china.jpg: keypoints find the
photo from 0.6 (12 agreeing points) and the near-copy check calls it near_copy from 0.7;
PDQ alone misses all of these, which is what the demo shows."""


def demo_crop(settings: Settings, photo: str = "china.jpg") -> Path:
    """The middle ``DEMO_CROP_KEEP`` of a demo photo, saved once under
    ``<home>/demo-queries``: what crop search and the near-copy check find."""
    target = settings.home / "demo-queries" / f"crop-{photo}"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        with Image.open(demo_images(settings) / photo) as image:
            w, h = image.size
            dx, dy = round(w * (1 - DEMO_CROP_KEEP) / 2), round(h * (1 - DEMO_CROP_KEEP) / 2)
            image.crop((dx, dy, w - dx, h - dy)).save(target, quality=90)
    return target
