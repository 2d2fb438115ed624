"""Proof against a published CSV/TSV file: a Conceptual Captions TSV built from the shared
CC3M rows, and the CC3M credits CSV as a table, are ingested; the report's rows are
confirmed from each file alone (and by the printed ``sed``/``python3`` command), and a row
edited in the report is refused even when the report is re-signed."""

from __future__ import annotations

import ast
import csv
import gzip
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from traindex.config import Settings
from traindex.core.keyring import Keyring
from traindex.core.signing import canonical_json
from traindex.evidence.model import EvidenceReport
from traindex.evidence.proof import check_against
from traindex.evidence.seal import open_sealed, seal

pytestmark = pytest.mark.shared

CREDITS = "conceptual-captions/competition/skeleton/conceptual-captions/test_images/credits.csv"
Cli = Callable[..., str]


@pytest.fixture(scope="module")
def releases(
    cli: Cli, shared_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Settings, dict[str, Path]]:
    """One home holding the TSV (plain and gzipped, with img2dataset's header line and a
    blank line) and the credits CSV (its columns mapped by --columns)."""
    folder = tmp_path_factory.mktemp("published")
    with (shared_data / CREDITS).open(encoding="utf-8", newline="") as fh:
        credits = list(csv.DictReader(fh))
    lines = ["caption\turl", *(f"{c['Title']}\t{c['OriginalURL']}" for c in credits)]
    lines.insert(4, "")
    text = "".join(line + "\n" for line in lines)
    tsv = folder / "Validation_GCC-1.1.0-Validation.tsv"
    tsv.write_text(text, encoding="utf-8")
    gz = folder / "cc3m-gz" / "Train_GCC-training.tsv.gz"
    gz.parent.mkdir()
    gz.write_bytes(gzip.compress(text.encode()))
    settings = Settings(home=tmp_path_factory.mktemp("home") / "home")
    cli(settings, "ingest", str(tsv), "--dataset", "cc3m", "--format", "cc3m-tsv")
    cli(settings, "ingest", str(gz.parent), "--dataset", "cc3mgz", "--format", "cc3m-tsv")
    cli(
        settings, "ingest", str(shared_data / CREDITS), "--dataset", "credits", "--format",
        "table", "--columns", "url=OriginalURL,caption=Title",
    )  # fmt: skip
    files = {"cc3m": tsv, "cc3mgz": gz, "credits": shared_data / CREDITS}
    reports = {}
    for name in files:
        out = folder / f"{name}.json"
        cli(
            settings, "report", "--domain", "staticflickr.com", "--dataset", name, "--out", str(out)
        )
        reports[name] = out
    return settings, {**{f"{k}.report": v for k, v in reports.items()}, **files}


def _report(paths: dict[str, Path], name: str) -> EvidenceReport:
    return open_sealed(paths[f"{name}.report"].read_bytes()).report


@pytest.mark.parametrize("name", ["cc3m", "cc3mgz", "credits"])
def test_rows_are_confirmed_from_the_published_file(
    cli: Cli, releases: tuple[Settings, dict[str, Path]], name: str
) -> None:
    settings, paths = releases
    report = _report(paths, name)
    assert len(report.matches) == 18
    published = [m.published for m in report.matches]
    assert all(p is not None and p.layout is not None for p in published)
    rows = check_against(report, paths[name])
    assert len(rows) == 18
    assert all(r.confirmed for r in rows), [r.reason for r in rows if not r.confirmed]
    output = cli(
        settings, "report", "verify", str(paths[f"{name}.report"]), "--against", str(paths[name])
    )
    assert output.count("confirmed") == 18


@pytest.mark.parametrize("name", ["cc3m", "cc3mgz", "credits"])
def test_printed_check_prints_the_row(
    releases: tuple[Settings, dict[str, Path]], name: str
) -> None:
    _, paths = releases
    for match in _report(paths, name).matches[::5]:
        assert match.published is not None
        assert match.published.check is not None
        printed = subprocess.run(
            ["sh", "-c", match.published.check],
            cwd=paths[name].parent,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        if name == "credits":
            cells = ast.literal_eval(printed)
            assert (cells[2], cells[7]) == (match.published.url, match.published.caption)
        else:
            assert printed == f"{match.published.caption}\t{match.published.url}\n"


def test_tsv_rows_are_physical_lines(releases: tuple[Settings, dict[str, Path]]) -> None:
    """The header line and the blank line count: row N is line N+1 of the file."""
    _, paths = releases
    lines = paths["cc3m"].read_text(encoding="utf-8").split("\n")
    for match in _report(paths, "cc3m").matches:
        assert match.published is not None
        assert lines[match.published.row].endswith("\t" + match.published.url)
    assert sorted(m.row for m in _report(paths, "cc3m").matches) == [1, 2, 3, *range(5, 20)]


@pytest.mark.parametrize(
    ("name", "change"),
    [
        ("cc3m", {"row": 5}),  # another row of the file
        ("cc3m", {"caption": "a caption the file does not have"}),
        ("credits", {"url": "https://c2.staticflickr.com/edited.jpg"}),
    ],
)
def test_edited_row_is_refused_even_when_re_signed(
    cli: Cli,
    releases: tuple[Settings, dict[str, Path]],
    tmp_path: Path,
    name: str,
    change: dict[str, object],
) -> None:
    settings, paths = releases
    report = _report(paths, name)
    first = next(m for m in report.matches if m.published and m.published.row != change.get("row"))
    assert first.published is not None
    edited = report.model_copy(
        update={
            "matches": [
                first.model_copy(update={"published": first.published.model_copy(update=change)})
            ]
        }
    )
    resigned = seal(edited, Keyring(settings.home / "keys").signer)
    [row] = check_against(resigned.report, paths[name])
    assert not row.confirmed
    path = tmp_path / "edited.json"
    path.write_bytes(canonical_json(resigned.document()))
    output = cli(settings, "report", "verify", str(path), "--against", str(paths[name]), code=1)
    assert "NOT CONFIRMED" in output
