"""Key and text lookups agree with a brute-force DuckDB scan of the same Parquet shards."""

from __future__ import annotations

import random
from pathlib import Path

import duckdb
import pytest

from traindex.catalog.store import Catalog
from traindex.catalog.text import fold
from traindex.config import Settings
from traindex.core.match_evidence import UrlFormEvidence
from traindex.ingest.pipeline import ingest
from traindex.search.queries import Query, swap_scheme
from traindex.search.service import SearchService

pytestmark = pytest.mark.shared


@pytest.fixture
def service(small_settings: Settings, laion_folder: Path) -> SearchService:
    ingest(small_settings, laion_folder, dataset="laion400m", release="test", skip_bad_rows=True)
    return SearchService(Catalog(small_settings))


def _scan(settings: Settings, where: str, params: list[object]) -> set[tuple[str, int]]:
    shards = str(settings.datasets_dir / "laion400m/test/samples/*.parquet")
    rows = duckdb.execute(
        f"SELECT filename, source_row FROM read_parquet(?, filename=true) WHERE {where}",
        [shards, *params],
    ).fetchall()
    manifest = next(m for _, m in Catalog(settings).releases())
    relpath = {f"{s.id:05d}.parquet": s.relpath for s in manifest.sources}
    return {(relpath[Path(f).name], int(r)) for f, r in rows}


def _found(service: SearchService, kind: str, value: str) -> set[tuple[str, int]]:
    result = service.search(Query(kind, value), limit=10_000)  # type: ignore[arg-type]
    assert result.total == len(result.matches)
    return {(m.shard, m.row) for m in result.matches}


def test_exact_url_matches_scan(service: SearchService, small_settings: Settings) -> None:
    urls = [
        r[0]
        for r in duckdb.execute(
            "SELECT url FROM read_parquet(?) USING SAMPLE 40 ROWS (reservoir, 7)",
            [str(small_settings.datasets_dir / "laion400m/test/samples/*.parquet")],
        ).fetchall()
    ]
    for url in urls:
        other = swap_scheme(url)
        expected = _scan(small_settings, "url IN (?, ?)", [url, other])
        assert expected, url
        assert _found(service, "url", url) == expected
        # the other scheme's form finds the same rows (http and https are one resource)
        assert _found(service, "url", other) == expected


def test_url_forms_say_which_scheme_matched(
    service: SearchService, small_settings: Settings
) -> None:
    shards = str(small_settings.datasets_dir / "laion400m/test/samples/*.parquet")
    for scheme in ("http", "https"):
        (url,) = duckdb.execute(
            "SELECT url FROM read_parquet(?) WHERE starts_with(url, ?) ORDER BY url LIMIT 1",
            [shards, scheme + "://"],
        ).fetchone()  # type: ignore[misc]
        other = swap_scheme(url)
        result = service.search(Query("url", other), limit=10_000)
        assert result.query["also_searched"] == url
        forms = {m.url: m.evidence_as(UrlFormEvidence).matched_url_form for m in result.matches}
        assert forms[url] == "other_scheme"
        assert all(form == "as_given" for u, form in forms.items() if u == other)


def test_domain_matches_scan(service: SearchService, small_settings: Settings) -> None:
    shards = str(small_settings.datasets_dir / "laion400m/test/samples/*.parquet")
    common = duckdb.execute(
        "SELECT domain FROM read_parquet(?) GROUP BY domain ORDER BY count(*) DESC, domain LIMIT 5",
        [shards],
    ).fetchall()
    for (domain,) in common:
        assert _found(service, "domain", domain) == _scan(small_settings, "domain = ?", [domain])


def test_subdomain_narrows_and_prefix_filters(
    service: SearchService, small_settings: Settings
) -> None:
    shards = str(small_settings.datasets_dir / "laion400m/test/samples/*.parquet")
    host, url = duckdb.execute(
        "SELECT host, url FROM read_parquet(?) WHERE host <> domain ORDER BY url LIMIT 1", [shards]
    ).fetchone()  # type: ignore[misc]
    assert _found(service, "domain", host) == _scan(
        small_settings, "host = ? OR ends_with(host, ?)", [host, "." + host]
    )
    prefix = url.rsplit("/", 1)[0] + "/"
    both = "starts_with(url, ?) OR starts_with(url, ?)"
    expected = _scan(small_settings, both, [prefix, swap_scheme(prefix)])
    assert _found(service, "url_prefix", prefix) == expected
    assert _found(service, "url_prefix", swap_scheme(prefix)) == expected


def test_flickr_photo_ids_match_scan(service: SearchService, small_settings: Settings) -> None:
    ids = _scan(small_settings, "flickr_photo_id IS NOT NULL", [])
    assert len(ids) >= 15  # the sample holds 21 Flickr static URLs
    shards = str(small_settings.datasets_dir / "laion400m/test/samples/*.parquet")
    for (pid,) in duckdb.execute(
        "SELECT DISTINCT flickr_photo_id FROM read_parquet(?) WHERE flickr_photo_id IS NOT NULL",
        [shards],
    ).fetchall():
        assert _found(service, "flickr_photo", str(pid)) == _scan(
            small_settings, "flickr_photo_id = ?", [pid]
        )


def test_text_single_terms_match_folded_scan(
    service: SearchService, small_settings: Settings
) -> None:
    shards = str(small_settings.datasets_dir / "laion400m/test/samples/*.parquet")
    table = duckdb.execute(
        "SELECT filename, source_row, caption FROM read_parquet(?, filename=true)", [shards]
    ).fetchall()
    words = sorted({w for _, _, c in table for w in fold(c or "") if w.isascii() and len(w) > 4})
    manifest = next(m for _, m in Catalog(small_settings).releases())
    relpath = {f"{s.id:05d}.parquet": s.relpath for s in manifest.sources}
    for word in random.Random(3).sample(words, 25):
        expected = {(relpath[Path(f).name], r) for f, r, c in table if word in fold(c or "")}
        assert _found(service, "text", word) == expected, word


def _captions(settings: Settings) -> list[tuple[str, int, set[str]]]:
    """Every caption row as (source file, row, its folded words): the brute-force oracle."""
    shards = str(settings.datasets_dir / "laion400m/test/samples/*.parquet")
    table = duckdb.execute(
        "SELECT filename, source_row, caption FROM read_parquet(?, filename=true)", [shards]
    ).fetchall()
    manifest = next(m for _, m in Catalog(settings).releases())
    relpath = {f"{s.id:05d}.parquet": s.relpath for s in manifest.sources}
    return [(relpath[Path(f).name], int(r), set(fold(c or ""))) for f, r, c in table]


def test_text_words_are_all_required_unless_or(
    service: SearchService, small_settings: Settings
) -> None:
    rows = _captions(small_settings)
    rng = random.Random(13)
    pairs = [tuple(rng.sample(sorted(w), 2)) for _, _, w in rng.sample(rows, 20) if len(w) > 2]
    pairs += [("robert", "kneschke"), ("robert", "burns"), ("eiffel", "tower")]
    for a, b in pairs:
        both = {(s, r) for s, r, words in rows if {a, b} <= words}
        either = {(s, r) for s, r, words in rows if {a, b} & words}
        assert _found(service, "text", f"{a} {b}") == both, (a, b)
        assert _found(service, "text", f"{a} OR {b}") == either, (a, b)
    robert = _found(service, "text", "Robert")
    assert len(robert) > 1
    assert _found(service, "text", "Robert Kneschke") == set()  # no row holds both words
    assert _found(service, "text", "Robert Burns") < robert


def test_matched_terms_say_which_words_a_row_holds(service: SearchService) -> None:
    result = service.search(Query("text", "robert OR burns -kiyosaki"), limit=100)
    assert result.matches
    for match in result.matches:
        words = set(fold(match.caption or ""))
        assert set(match.matched_terms) == {"robert", "burns"} & words
        assert "kiyosaki" not in words
        assert match.to_json()["matched_terms"] == list(match.matched_terms)
