"""Licence audits and attribution lists from real dataset rows and real photo credits."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from traindex.catalog.store import Catalog
from traindex.config import Settings
from traindex.core.licenses import normalise_license
from traindex.errors import InputError
from traindex.evidence.licenses import (
    attribution_csv,
    attribution_html,
    attribution_list,
    audit_licenses,
    license_family,
    parse_scope,
)

pytestmark = pytest.mark.shared


def test_laion_sample_has_no_licence_column_so_every_row_is_unknown(
    demo_settings: Settings, shared_data: Path
) -> None:
    names = pq.read_schema(shared_data / "img2dataset/tests/test_files/test_10000.parquet").names
    assert not any(n.lower() in ("license", "licence") for n in names)
    [audit] = audit_licenses(Catalog(demo_settings), "laion400m-sample")
    assert audit.rows == 9_999  # one real row is column-shifted and rejected at ingest
    assert audit.by_family() == {"unknown": 9_999}
    assert audit.commercial_rows == 0


def test_real_licence_values_are_normalised_and_counted(
    demo_settings: Settings, cc3m_dir: Path
) -> None:
    raw = pq.read_table(cc3m_dir / "input.parquet").column("LICENSE").to_pylist()
    assert {normalise_license(v) for v in raw if v} == {"CC-BY-2.0"}
    [cc3m] = audit_licenses(Catalog(demo_settings), "cc3m-img2dataset")
    assert [
        (c.license, c.family, c.rows, c.commercial_use, c.conditions) for c in cc3m.licenses
    ] == [("CC-BY-2.0", "CC BY", 18, True, ["attribution"])]
    [demo] = audit_licenses(Catalog(demo_settings), "demo-photos")
    assert demo.by_family() == {"CC0": 3, "Public Domain Mark": 3, "CC BY": 2}
    assert demo.commercial_share == 1.0


@pytest.mark.parametrize(
    ("license_id", "family"),
    [
        ("CC-BY-NC-SA-4.0", "CC BY-NC-SA"),
        ("CC-BY-2.0-DE", "CC BY"),
        ("CC-BY-SA", "CC BY-SA"),
        ("CC0-1.0", "CC0"),
        ("ARR", "All rights reserved"),
        (None, "unknown"),
    ],
)
def test_license_family(license_id: str | None, family: str) -> None:
    assert license_family(license_id) == family


def test_attribution_list_matches_the_photographers_credits(
    demo_settings: Settings, credits_csv: Path
) -> None:
    with credits_csv.open(encoding="utf-8") as fh:
        credits = {r["OriginalLandingURL"]: r for r in csv.DictReader(fh)}
    rows = list(attribution_list(Catalog(demo_settings), "cc3m-img2dataset"))
    assert len(rows) == len(credits) == 18
    for row in rows:
        credit = credits[row.source_url]  # the Flickr page, rebuilt from owner + photo id
        assert (row.author, row.title, row.license_url) == (
            credit["Author"],
            credit["Title"],
            credit["License"],
        )
    parsed = list(csv.DictReader(io.StringIO(attribution_csv(rows))))
    assert [r["source_url"] for r in parsed] == [r.source_url for r in rows]
    html = attribution_html(rows, "cc3m-img2dataset")
    assert html.count("<li>") == 18
    assert "Donald Lee Pardue" in html


def test_scope_chooses_the_subset(demo_settings: Settings) -> None:
    catalog = Catalog(demo_settings)
    assert [r.license for r in attribution_list(catalog, "demo-photos")] == ["CC-BY-2.0"] * 2
    cc = [r.license for r in attribution_list(catalog, "demo-photos", "cc")]
    assert sorted(cc) == ["CC-BY-2.0"] * 2 + ["CC0-1.0"] * 3
    with pytest.raises(InputError, match="scope"):
        parse_scope("everything")
