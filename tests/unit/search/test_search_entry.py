"""``SearchService.search(query)``, the one search entry: every query kind answers as its
specialised search does, on a real fingerprinted release (the conftest's ``indexed``)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from traindex.bootstrap import Services
from traindex.catalog.store import Catalog
from traindex.config import Settings
from traindex.core.urls import host_of
from traindex.search.images import ImageSearch
from traindex.search.iscc import IsccSearch, code_queries
from traindex.search.queries import (
    ImagePathsQuery,
    ImageQuery,
    IsccCodesQuery,
    Query,
    SimilarTextQuery,
)
from traindex.search.service import ImageLimits, SearchService

from .conftest import EDITS, FLAT_KEY, flat_grey

pytestmark = pytest.mark.shared


def _queries(photo_dir: Path) -> list[tuple[str, bytes]]:
    """The originals of the edited copies, the flat image and one photo not in the set."""
    files = [(f"{key}.jpg", (photo_dir / f"{key}.jpg").read_bytes()) for key in EDITS]
    return [*files, ("flat.jpg", flat_grey()), ("not-an-image.jpg", b"plain text")]


def test_image_query_answers_as_image_search(indexed: Settings, photo_dir: Path) -> None:
    files = _queries(photo_dir)
    entry = SearchService(Catalog(indexed)).search(ImageQuery(files), limit=10)
    direct = ImageSearch(Catalog(indexed)).search(files, limit=10)
    assert entry.to_json() == direct.to_json()
    assert {m.key for m in entry.matches} >= set(EDITS) | {FLAT_KEY}  # a real answer


def test_image_paths_query_answers_as_search_paths(
    indexed: Settings, photo_dir: Path, tmp_path: Path
) -> None:
    paths = [photo_dir / f"{key}.jpg" for key in EDITS] + [tmp_path / "missing.jpg"]
    heard: list[int] = []
    query = ImagePathsQuery(paths, heard.append)
    entry = SearchService(Catalog(indexed)).search(query, dataset="credits", limit=5)
    direct = ImageSearch(Catalog(indexed)).search_paths(paths, dataset="credits", limit=5)
    assert entry.to_json() == direct.to_json()
    assert sum(heard) == len(paths)
    assert entry.to_json()["errors"][0]["query"] == str(tmp_path / "missing.jpg")


def test_image_limits_reach_the_image_search(indexed: Settings) -> None:
    service = SearchService(Catalog(indexed), image_limits=ImageLimits(1_000, 2_000))
    assert (service.images.max_pixels, service.images.max_file_bytes) == (1_000, 2_000)


def _all_rows(settings: Settings) -> pa.Table:
    [(release, _)] = Catalog(settings).select("credits")
    return pa.concat_tables(pq.read_table(p) for p in sorted(release.samples_dir.glob("*.parquet")))


def _suffixed(url: str, host: str) -> tuple[str, ...]:
    """``url``'s host when it is a subdomain of ``host`` (a domain query includes those)."""
    return (host_of(url),) if host_of(url).endswith("." + host) else ()


def test_domain_and_url_queries_find_the_rows_a_scan_finds(indexed: Settings) -> None:
    rows = _all_rows(indexed).to_pylist()
    host = host_of(rows[0]["url"])
    service = SearchService(Catalog(indexed))
    result = service.search(Query("domain", host), limit=1_000)
    assert sorted(m.url or "" for m in result.matches) == sorted(
        r["url"] for r in rows if host_of(r["url"]) in (host, *_suffixed(r["url"], host))
    )
    [found] = service.search(Query("url", rows[3]["url"])).matches
    assert (found.url, found.row) == (rows[3]["url"], 3)


def test_offset_pages_only_paged_answers(indexed: Settings) -> None:
    with pytest.raises(ValueError, match="not paged"):
        SearchService(Catalog(indexed)).search(SimilarTextQuery("a cat"), offset=5)


def test_iscc_codes_query_answers_as_iscc_search(
    iscc_credits: Callable[[Path, dict[str, bytes]], tuple[Settings, Any]],
    photo_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    from traindex.fingerprint.iscc import image_code

    photo = photo_dir / "0006400c1c224e19.jpg"
    root = tmp_path_factory.mktemp("entry-iscc")
    settings, _ = iscc_credits(root, {photo.stem: photo.read_bytes()})
    codes = code_queries([image_code(photo.read_bytes())])
    entry = SearchService(Catalog(settings)).search(
        IsccCodesQuery(codes, "iscc", codes[0].name), limit=5
    )
    direct = IsccSearch(Catalog(settings)).search(
        codes, query={"kind": "iscc", "value": codes[0].name}, limit=5
    )
    assert entry.to_json() == direct.to_json()
    assert [m.key for m in entry.matches] == [photo.stem]


def test_services_share_one_catalog_and_give_each_thread_its_search(indexed: Settings) -> None:
    services = Services(indexed)
    mine = services.search
    assert services.search is mine  # built once per thread
    other: list[SearchService] = []
    thread = threading.Thread(target=lambda: other.append(services.search))
    thread.start()
    thread.join()
    assert other[0] is not mine  # own readers per thread
    assert other[0].catalog is mine.catalog is services.catalog
    assert services.evidence.search is mine
    assert services.with_settings(home=indexed.home) is services
    moved = services.with_settings(search_ray_address="127.0.0.1:1")
    assert moved is not services
    assert moved.settings.search_ray_address == "127.0.0.1:1"
