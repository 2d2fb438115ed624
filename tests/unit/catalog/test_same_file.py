"""A creator's original file is found by the digests datasets record (img2dataset sha256,
Open Images' base64 MD5), without any image having been downloaded."""

from __future__ import annotations

import base64
import csv
import hashlib
from pathlib import Path

import pytest

from traindex.catalog.store import Catalog
from traindex.config import Settings
from traindex.errors import InputError
from traindex.ingest.pipeline import ingest
from traindex.search.queries import Query
from traindex.search.service import SearchService

pytestmark = pytest.mark.shared

PHOTOS = "conceptual-captions/competition/skeleton/conceptual-captions/test_images"


def test_original_photos_match_recorded_digests(
    small_settings: Settings, shared_data: Path
) -> None:
    out = shared_data / "_generated/img2dataset-1.47.0-output-cc3m-test-images/webdataset"
    ingest(small_settings, out, dataset="cc3m", release="main")
    service = SearchService(Catalog(small_settings))
    photos = sorted((shared_data / PHOTOS).glob("*.jpg"))
    assert len(photos) == 18
    for photo in photos:
        data = photo.read_bytes()
        by_sha = service.search(Query("sha256", hashlib.sha256(data).hexdigest()))
        assert [(m.dataset, m.method) for m in by_sha.matches] == [("cc3m", "same_file")]
        assert by_sha.matches[0].url.endswith(photo.name)


def test_base64_md5_is_indexed_as_hex(small_settings: Settings, shared_data: Path) -> None:
    """credits.csv records Flickr originals' MD5 in base64; queries give it in hex.

    (The 18 test photos are downsized copies, so their own MD5 differs by design.)
    """
    credits = shared_data / PHOTOS / "credits.csv"
    ingest(small_settings, credits, dataset="credits", release="main")
    service = SearchService(Catalog(small_settings))
    rows = list(csv.DictReader(credits.open(encoding="utf-8")))
    for row in rows:
        md5_hex = base64.b64decode(row["OriginalMD5"]).hex()
        found = service.search(Query("md5", md5_hex))
        assert [m.key for m in found.matches] == [row["ImageID"]]


def test_digest_queries_are_validated(small_settings: Settings) -> None:
    service = SearchService(Catalog(small_settings))
    with pytest.raises(InputError, match="64 hex digits"):
        service.search(Query("sha256", "abc"))
