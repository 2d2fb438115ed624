"""Proof against the published file: rows of a report confirmed from the LAION sample
Parquet alone (pyarrow, and the printed DuckDB query); an edited row is refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from traindex.config import Settings
from traindex.core.keyring import Keyring
from traindex.core.signing import canonical_json
from traindex.evidence.proof import check_against
from traindex.evidence.seal import open_sealed, seal

pytestmark = pytest.mark.shared

LAION = "img2dataset/tests/test_files/test_10000.parquet"


@pytest.fixture(scope="module")
def laion_report(
    cli: Callable[..., str],
    empty_search: dict[str, object],
    demo_settings: Settings,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    out = tmp_path_factory.mktemp("against") / "report.json"
    cli(
        demo_settings, "report", "--domain", "shutterstock.com", "--dataset",
        "laion400m-sample", "--out", str(out),
    )  # fmt: skip
    return out


def test_rows_are_confirmed_from_the_published_file(
    cli: Callable[..., str], demo_settings: Settings, laion_report: Path, shared_data: Path
) -> None:
    sealed = open_sealed(laion_report.read_bytes())
    published = [m.published for m in sealed.report.matches]
    assert published
    assert all(p is not None for p in published)
    rows = check_against(sealed.report, shared_data / LAION)
    assert len(rows) == len(published)
    assert all(r.confirmed for r in rows)
    table = pq.read_table(shared_data / LAION)
    first = published[0]
    assert first is not None
    assert table.column("URL")[first.row].as_py() == first.url  # not the normalised URL
    output = cli(
        demo_settings, "report", "verify", str(laion_report), "--against", str(shared_data / LAION)
    )
    assert output.count("confirmed") == len(rows)


def test_printed_duckdb_query_shows_the_row(laion_report: Path, shared_data: Path) -> None:
    match = open_sealed(laion_report.read_bytes()).report.matches[0]
    assert match.published is not None
    assert match.published.check is not None
    sql = match.published.check.split('"')[1].replace(
        "test_10000.parquet", str(shared_data / LAION)
    )
    [(url, caption, *_)] = duckdb.sql(sql).fetchall()
    assert (url, caption) == (match.published.url, match.published.caption)


def test_edited_row_is_refused_even_when_re_signed(
    cli: Callable[..., str],
    demo_settings: Settings,
    laion_report: Path,
    shared_data: Path,
    tmp_path: Path,
) -> None:
    sealed = open_sealed(laion_report.read_bytes())
    first = sealed.report.matches[0]
    assert first.published is not None
    moved = first.published.model_copy(update={"row": first.published.row + 1})
    edited = sealed.report.model_copy(
        update={"matches": [first.model_copy(update={"published": moved})]}
    )
    resigned = seal(edited, Keyring(demo_settings.home / "keys").signer)
    [row] = check_against(resigned.report, shared_data / LAION)
    assert not row.confirmed
    path = tmp_path / "edited.json"
    path.write_bytes(canonical_json(resigned.document()))
    output = cli(
        demo_settings, "report", "verify", str(path), "--against", str(shared_data / LAION), code=1
    )
    assert "NOT CONFIRMED" in output


def test_file_the_report_does_not_cite_is_named(
    cli: Callable[..., str], demo_settings: Settings, laion_report: Path, shared_data: Path
) -> None:
    other = shared_data / "img2dataset/tests/test_files/test_1000.parquet"
    output = cli(
        demo_settings, "report", "verify", str(laion_report), "--against", str(other), code=2
    )
    assert "cites no row of this file" in output
