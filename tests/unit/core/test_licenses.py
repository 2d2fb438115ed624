"""normalise_license, license_url, commercial_use_allowed: URLs, names, real dataset values."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from traindex.core.licenses import commercial_use_allowed, license_url, normalise_license

CREDITS = Path(
    "conceptual-captions/competition/skeleton/conceptual-captions/test_images/credits.csv"
)
CC3M_OUTPUT = Path("_generated/img2dataset-1.47.0-output-cc3m-test-images")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://creativecommons.org/licenses/by/2.0/", "CC-BY-2.0"),
        ("http://creativecommons.org/licenses/by/2.0", "CC-BY-2.0"),
        ("creativecommons.org/licenses/by-sa/4.0/deed.de", "CC-BY-SA-4.0"),
        ("http://creativecommons.org/licenses/by-nc-sa/3.0/deed.en_US", "CC-BY-NC-SA-3.0"),
        ("https://creativecommons.org/licenses/by-nc-nd/3.0/legalcode", "CC-BY-NC-ND-3.0"),
        ("https://creativecommons.org/licenses/by-nd-nc/1.0/", "CC-BY-NC-ND-1.0"),
        ("http://creativecommons.org/licenses/by/2.0/de/", "CC-BY-2.0-DE"),
        ("https://creativecommons.org/licenses/by-sa/3.0/igo/deed.fr", "CC-BY-SA-3.0-IGO"),
        ("https://creativecommons.org/publicdomain/zero/1.0/", "CC0-1.0"),
        ("https://creativecommons.org/publicdomain/mark/1.0/deed.en", "PDM-1.0"),
        ("https://www.flickr.com/commons/usage/", "NKCR"),
        ("http://www.usa.gov/copyright.shtml", "US-GOV-WORK"),
        ("CC BY 2.0", "CC-BY-2.0"),
        ("cc-by-4.0", "CC-BY-4.0"),
        ("CC BY-NC 4.0", "CC-BY-NC-4.0"),
        ("CC-BY-3.0-DE", "CC-BY-3.0-DE"),
        ("Attribution License", "CC-BY-2.0"),
        ("Attribution-NoDerivs License", "CC-BY-ND-2.0"),
        ("Attribution-NonCommercial-ShareAlike License", "CC-BY-NC-SA-2.0"),
        ("attribution-noncommercial-noderivs license", "CC-BY-NC-ND-2.0"),
        ("Creative Commons Attribution 4.0 International", "CC-BY-4.0"),
        ("Creative Commons Attribution-ShareAlike 4.0 International License", "CC-BY-SA-4.0"),
        ("Attribution-NonCommercial-NoDerivatives 4.0 International", "CC-BY-NC-ND-4.0"),
        ("Attribution 2.0 Generic (CC BY 2.0)", "CC-BY-2.0"),
        ("Creative Commons Attribution Non-Commercial Share Alike 3.0 Unported", "CC-BY-NC-SA-3.0"),
        ("CC BY-SA", "CC-BY-SA"),
        ("CC0", "CC0-1.0"),
        ("CC0 1.0 Universal", "CC0-1.0"),
        ("Public Domain Dedication (CC0)", "CC0-1.0"),
        ("Public Domain Mark", "PDM-1.0"),
        ("Public Domain Mark 1.0", "PDM-1.0"),
        ("No known copyright restrictions", "NKCR"),
        ("United States Government Work", "US-GOV-WORK"),
        ("All Rights Reserved", "ARR"),
        ("  all   rights reserved ", "ARR"),
    ],
)
def test_normalise_license(raw: str, expected: str) -> None:
    assert normalise_license(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "?",
        "  ",
        "unknown",
        "MIT",
        "public domain",
        "by John Smith",
        "CC BY 5.0",
        "CC BY-ND-SA 4.0",
        "CC BY 2.0 4.0",
        "https://creativecommons.org/licenses/sampling+/1.0/",
        "https://creativecommons.org/licenses/by/9.0/",
        "https://creativecommons.org/",
        "https://example.com/license",
    ],
)
def test_unrecognised_licenses_give_none(raw: str | None) -> None:
    assert normalise_license(raw) is None


@pytest.mark.parametrize(
    ("license_id", "url"),
    [
        ("CC-BY-2.0", "https://creativecommons.org/licenses/by/2.0/"),
        ("CC-BY-NC-SA-4.0", "https://creativecommons.org/licenses/by-nc-sa/4.0/"),
        ("CC-BY-2.0-DE", "https://creativecommons.org/licenses/by/2.0/de/"),
        ("CC0-1.0", "https://creativecommons.org/publicdomain/zero/1.0/"),
        ("PDM-1.0", "https://creativecommons.org/publicdomain/mark/1.0/"),
        ("CC BY 4.0", "https://creativecommons.org/licenses/by/4.0/"),
        ("CC-BY-SA", None),
        ("NKCR", None),
        ("ARR", None),
        ("nonsense", None),
    ],
)
def test_license_url(license_id: str, url: str | None) -> None:
    assert license_url(license_id) == url


@pytest.mark.parametrize(
    ("license_id", "allowed"),
    [
        ("CC-BY-2.0", True),
        ("CC-BY-SA-4.0", True),
        ("CC-BY-ND-2.0", True),
        ("CC-BY-NC-2.0", False),
        ("CC-BY-NC-SA-2.0-DE", False),
        ("CC-BY-NC-ND-4.0", False),
        ("CC0-1.0", True),
        ("PDM-1.0", True),
        ("US-GOV-WORK", True),
        ("ARR", False),
        ("NKCR", None),
        ("?", None),
        ("nonsense", None),
    ],
)
def test_commercial_use_allowed(license_id: str, allowed: bool | None) -> None:
    assert commercial_use_allowed(license_id) is allowed


_KINDS = st.sampled_from(["by", "by-sa", "by-nd", "by-nc", "by-nc-sa", "by-nc-nd"])
_VERSIONS = st.sampled_from(["1.0", "2.0", "2.5", "3.0", "4.0"])
_PORTS = st.sampled_from(["", "de/", "fr/", "igo/"])
_TAILS = st.sampled_from(["", "deed.en", "deed.en_US", "legalcode", "legalcode.de"])


@given(st.sampled_from(["http", "https"]), _KINDS, _VERSIONS, _PORTS, _TAILS)
def test_cc_urls_round_trip(scheme: str, kind: str, version: str, port: str, tail: str) -> None:
    raw = f"{scheme}://creativecommons.org/licenses/{kind}/{version}/{port}{tail}"
    license_id = normalise_license(raw)
    assert license_id == f"CC-{kind.upper()}-{version}" + (f"-{port[:-1].upper()}" if port else "")
    assert normalise_license(license_id) == license_id
    assert (
        license_url(license_id) == f"https://creativecommons.org/licenses/{kind}/{version}/{port}"
    )
    assert commercial_use_allowed(license_id) is ("nc" not in kind)


@given(st.text(max_size=60))
def test_normalise_is_idempotent_and_never_raises(raw: str) -> None:
    license_id = normalise_license(raw)
    if license_id is not None:
        assert normalise_license(license_id) == license_id
        assert license_id == license_id.upper()


@pytest.mark.shared
def test_real_license_values_normalise(shared_data: Path) -> None:
    with (shared_data / CREDITS).open(newline="", encoding="utf-8") as handle:
        values = [row["License"] for row in csv.DictReader(handle)]
    for parquet in sorted((shared_data / CC3M_OUTPUT).rglob("*.parquet")):
        values += pq.read_table(parquet, columns=["LICENSE"]).column("LICENSE").to_pylist()
    present = [value for value in values if value is not None]
    assert len(present) >= 18 + 3 * 18 + 18
    assert {normalise_license(value) for value in present} == {"CC-BY-2.0"}
    assert all(normalise_license(value) is None for value in values if value is None)


@pytest.mark.shared
def test_coyo_sample_license_file_name_normalises(shared_data: Path) -> None:
    license_files = list(shared_data.glob("_generated/coyo-700m-readme-preview/LICENSE.*"))
    assert [normalise_license(path.name.partition(".")[2]) for path in license_files] == [
        "CC-BY-4.0"
    ]
