"""The JSON of real searches stays byte for byte what it was (the ``Match`` contract).

``match_json_contract.json`` holds the ``--json`` documents of one search of each catalog
and image method over a fingerprinted ``credits`` release (PDQ, ISCC and keypoints), as
written before ``Match``'s evidence got typed fields: any change of a key, its order or its
value shows here (see the ``match_contract`` fixture).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from tests.conftest import MatchContract

from traindex.catalog.store import Catalog
from traindex.config import Settings
from traindex.fingerprint.iscc import image_code
from traindex.fingerprint.keypoints import KeypointOptions
from traindex.jobs.fingerprint import fingerprint
from traindex.search.images import ImageSearch
from traindex.search.iscc import IsccSearch, code_queries
from traindex.search.queries import Query
from traindex.search.service import SearchService

from .conftest import EDITS, FLAT_KEY, flat_grey, jpeg

pytestmark = pytest.mark.shared

CONTRACT = Path(__file__).with_name("match_json_contract.json")
CROPPED = "006adbf1ca23aa4d"
"""Its row holds the middle of the photo: PDQ misses it, keypoints find it."""
_QUERIES = [
    Query("url", "https://c2.staticflickr.com/2/1433/946782888_84c5811a41_o.jpg"),
    Query("url", "http://c2.staticflickr.com/2/1433/946782888_84c5811a41_o.jpg"),
    Query("url_prefix", "https://c2.staticflickr.com/2/"),
    Query("domain", "staticflickr.com"),
    Query("flickr_photo", "946782888"),
    Query("text", "castle"),
]


def _middle(image: Image.Image) -> Image.Image:
    w, h = image.size
    return image.crop((round(0.35 * w), round(0.1 * h), round(0.85 * w), round(0.6 * h)))


@pytest.fixture(scope="module")
def home(
    iscc_credits: Callable[[Path, dict[str, bytes]], tuple[Settings, Any]],
    tmp_path_factory: pytest.TempPathFactory,
    photo_dir: Path,
) -> Settings:
    """``credits`` with edited copies, a cropped one and the flat image: PDQ and ISCC, then
    keypoints."""
    edits = {**EDITS, CROPPED: _middle}
    images = {}
    for key, edit in edits.items():
        with Image.open(photo_dir / f"{key}.jpg") as image:
            images[key] = jpeg(edit(image.convert("RGB")))
    images[FLAT_KEY] = flat_grey()
    settings, _ = iscc_credits(tmp_path_factory.mktemp("contract"), images)
    folder = settings.home.parent / "images"
    fingerprint(settings, "credits", images=folder, workers=1, keypoints=KeypointOptions())
    return settings


def _documents(settings: Settings, photo_dir: Path) -> list[dict[str, Any]]:
    catalog = Catalog(settings)
    service = SearchService(catalog)
    docs = [service.search(query, limit=5).to_json() for query in _QUERIES]
    keys = [*EDITS, CROPPED]
    files = [(f"{key}.jpg", (photo_dir / f"{key}.jpg").read_bytes()) for key in keys]
    files.append(("flat.jpg", flat_grey()))  # the dataset's own bytes: same_file
    docs.append(ImageSearch(catalog).search(files).to_json())
    codes = [image_code(data) for _, data in files[: len(EDITS)]]
    iscc = IsccSearch(catalog).search(code_queries(codes), query={"kind": "iscc", "value": ""})
    docs.append(iscc.to_json())
    return docs


def test_search_json_is_unchanged(
    home: Settings, photo_dir: Path, match_contract: MatchContract
) -> None:
    documents = _documents(home, photo_dir)
    matches = [m for doc in documents for m in doc["matches"]]
    methods = {m["method"] for m in matches}
    assert methods == {"exact_url", "url_prefix", "domain", "flickr_photo", "text", "same_file",
                       "same_image"}  # fmt: skip
    assert {m.get("variant") for m in matches} >= {"original", "flip_h", "keypoints", "iscc"}
    match_contract(CONTRACT, documents)
