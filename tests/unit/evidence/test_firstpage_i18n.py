"""The lawyer's page speaks one language throughout: coverage, numbers and method meanings
in German and Dutch are German and Dutch, not English quoted inside; the HTML has one h1."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import get_args

import pytest
from pypdf import PdfReader

from traindex.core.match_evidence import ImageEvidence
from traindex.core.matches import Match, MatchMethod
from traindex.core.signing import Signer
from traindex.evidence.firstpage import LANGUAGES, Language, first_page
from traindex.evidence.model import (
    DownloadProof,
    EvidenceMatch,
    EvidenceReport,
    QueryRecord,
    ReleaseCovered,
    ReleaseSearched,
    SourceFile,
)
from traindex.evidence.render import render, render_html
from traindex.evidence.seal import SealedReport, seal
from traindex.evidence.wording import describe
from traindex.evidence.wording_i18n import METHODS, TEXT

ENGLISH_SUMMARY = (
    "searched 8,412 of 9,999 rows (sha256, pdq); 1,587 image(s) could not be fingerprinted: "
    "1,204 HTTP 404, 383 timeout; 1 of 2 source file(s) never fingerprinted"
)
COVERAGE = {
    "en": "laion / 2b (image search): searched 8,412 of 9,999 rows (sha256, pdq); 1,587 "
    "image(s) could not be fingerprinted: 1,204 HTTP 404, 383 timeout; 1 of 2 source "
    "file(s) never fingerprinted.",
    "de": "laion / 2b (Bildsuche): 8.412 von 9.999 Zeilen durchsucht (sha256, pdq); 1.587 "
    "Bild(er) konnten nicht erfasst werden: 1.204 HTTP 404, 383 Zeitüberschreitung; 1 von "
    "2 Quelldatei(en) nie erfasst.",
    "nl": "laion / 2b (zoeken op beeld): 8.412 van 9.999 rijen doorzocht (sha256, pdq); "
    "1.587 afbeelding(en) konden niet worden verwerkt: 1.204 HTTP 404, 383 time-out; 1 van "
    "2 bronbestand(en) nooit verwerkt.",
}
ROWS = {"en": "(9,999 rows)", "de": "(9.999 Zeilen)", "nl": "(9.999 rijen)"}


def _source(name: str) -> SourceFile:
    return SourceFile(path=name, bytes=10, sha256="a" * 64, rows=5_000)


def _report(covered: ReleaseCovered, method: str = "same image (keypoints)") -> EvidenceReport:
    release = ReleaseSearched(
        dataset="laion", release="2b", in_catalog=True, format="laion", rows=9_999,
        failed_rows=0, rejected_rows=0, ingested_at=datetime(2026, 1, 1, tzinfo=UTC),
        sources=[_source("part-0.parquet"), _source("part-1.parquet")], coverage=covered,
    )  # fmt: skip
    match = EvidenceMatch(
        query="me.jpg", dataset="laion", release="2b", source_file="part-0.parquet", row=3,
        url="https://example.com/a.jpg", method=method, measure="17 distinctive points agree",
        threshold="at least 10 points", confidence="likely", explanation="points agree",
    )  # fmt: skip
    query = QueryRecord(
        kind="image", value="me.jpg", datasets="all", outcome="found", matches=1, listed=1
    )
    return EvidenceReport(
        report_id="r1", requested_by="Jane", created_at=datetime(2026, 1, 2, tzinfo=UTC),
        traindex_version="0", releases=[release], queries=[query], matches=[match],
    )  # fmt: skip


def _covered(**changes: object) -> ReleaseCovered:
    fields: dict[str, object] = {
        "signals": ["sha256", "pdq"], "state": "partly searched", "rows": 9_999,
        "rows_searched": 8_412, "failures": {"HTTP 404": 1_204, "timeout": 383},
        "shards": 2, "shards_not_searched": ["part-1.parquet"], "summary": ENGLISH_SUMMARY,
    }  # fmt: skip
    return ReleaseCovered.model_validate({**fields, **changes})


def _lines(sealed: SealedReport, lang: Language) -> list[str]:
    page = first_page(sealed, lang)
    sections = page["sections"]
    assert isinstance(sections, list)
    return [line for _, lines in sections for line in lines]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_each_language_has_its_own_coverage_sentence(signer: Signer, lang: Language) -> None:
    sealed = seal(_report(_covered()), signer)
    lines = _lines(sealed, lang)
    assert COVERAGE[lang] in lines
    assert any(ROWS[lang] in line for line in lines)  # "What was compared"
    # an image search compared fingerprinted rows only: never "every searchable row"
    assert not any(
        TEXT[lang]["compared"].split("{asked})")[1].split("{")[0] in line for line in lines
    )
    others = [COVERAGE[other] for other in LANGUAGES if other != lang]
    assert not any(sentence in lines for sentence in others)
    if lang != "en":
        assert not any(ENGLISH_SUMMARY in line for line in lines)


@pytest.mark.parametrize(
    ("rows_searched", "expected"),
    [
        (0, {"de": "nicht durchsucht: keine ihrer 9.999 Zeilen", "nl": "niet doorzocht: geen"}),
        (9_999, {"de": "alle 9.999 Zeilen durchsucht", "nl": "alle 9.999 rijen doorzocht"}),
    ],
)
def test_nothing_and_everything_searched_read_in_the_language(
    signer: Signer, rows_searched: int, expected: dict[str, str]
) -> None:
    covered = _covered(rows_searched=rows_searched, failures={}, shards_not_searched=[])
    sealed = seal(_report(covered), signer)
    for lang, phrase in expected.items():
        assert any(phrase in line for line in _lines(sealed, lang)), lang  # type: ignore[arg-type]


def test_older_reports_without_counts_take_them_from_the_release(signer: Signer) -> None:
    sealed = seal(_report(_covered(rows=None, shards=None)), signer)
    assert COVERAGE["de"] in _lines(sealed, "de")


@pytest.mark.parametrize("lang", ["de", "nl"])
def test_every_method_has_its_meaning_in_the_language(signer: Signer, lang: Language) -> None:
    for method, meanings in METHODS.items():
        sealed = seal(_report(_covered(), method=method), signer)
        lines = _lines(sealed, lang)
        assert any(meanings[lang] in line for line in lines), method
        assert not any(meanings["en"] in line for line in lines), method


class _Headings(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.h1 = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.h1 += tag == "h1"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_html_report_has_exactly_one_h1(signer: Signer, lang: Language) -> None:
    parser = _Headings()
    parser.feed(render_html(seal(_report(_covered()), signer), lang=lang))
    assert parser.h1 == 1


@pytest.mark.parametrize("method", get_args(MatchMethod))
@pytest.mark.parametrize(
    "evidence",
    [
        ImageEvidence("a.jpg", "0" * 64, None, 31, "likely", "", distance=3),
        ImageEvidence("a.jpg", "0" * 64, None, 31, "likely", "", inliers=17, min_inliers=10),
    ],
)
def test_every_method_a_report_can_name_has_a_meaning(method: str, evidence: ImageEvidence) -> None:
    match = Match(
        "laion", "2b", "part-0.parquet", 3, "https://example.com/a.jpg", None, None, None, None,
        method, 1.0, evidence=evidence,  # type: ignore[arg-type]
    )  # fmt: skip
    name = describe(match).method
    assert set(METHODS[name]) == {"en", "de", "nl"}


CROWDED_METHODS = ("same file", "same image", "same image (keypoints)", "exact URL", "domain")


def _crowded() -> EvidenceReport:
    """Four partly searched releases, five methods, download proofs: a long first page
    (more releases or methods than this may take a second page before the tables)."""
    base = _report(_covered())
    releases = [base.releases[0].model_copy(update={"dataset": f"laion{i}"}) for i in range(4)]
    proof = DownloadProof(
        url="https://example.com/a.jpg", fetched_at="2026-12-05T08:00:00+00:00",
        http_status=200, sha256="b" * 64,
    )  # fmt: skip
    matches = [
        base.matches[0].model_copy(update={"method": method, "row": i, "download_proof": proof})
        for i, method in enumerate(CROWDED_METHODS)
    ]
    return base.model_copy(update={"releases": releases, "matches": matches})


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_long_lawyers_page_fits_on_page_one(signer: Signer, lang: Language) -> None:
    sealed = seal(_crowded(), signer)
    pages = PdfReader(io.BytesIO(render(sealed, "pdf", lang=lang))).pages
    first = " ".join(pages[0].extract_text().split())
    assert "--against" in first  # the page's last paragraph
    assert "Evidence report: training-dataset rows" in pages[1].extract_text()
