"""Letters in three languages list every matched row and leave only the sender's blanks."""

from __future__ import annotations

import html
import re
import subprocess
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from traindex.errors import InputError
from traindex.evidence.letters import KINDS, LANGUAGES, compose_letter
from traindex.evidence.letters.compose import markdown_text
from traindex.evidence.service import RenderedReport

pytestmark = pytest.mark.shared

_NOT_ADVICE = {
    "en": "Not legal advice.",
    "de": "Keine Rechtsberatung.",
    "nl": "Geen juridisch advies.",
}
_LAW = {
    "gdpr-access": ("15",),
    "gdpr-erasure": ("17", "21"),
    "urhg-101": ("101", "242"),
    "removal": ("16",),
}


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_letter_lists_every_matched_row(rendered: RenderedReport, kind: str, lang: str) -> None:
    letter = compose_letter(rendered.sealed, kind, lang, today=date(2026, 11, 23))
    text = letter.markdown
    assert text.startswith(f"> **{_NOT_ADVICE[lang]}**")
    report = rendered.sealed.report
    items = re.findall(r"^\d+\. (.*)$", text, flags=re.MULTILINE)
    evidence = [i for i in items if i.startswith(tuple(m.dataset for m in report.matches))]
    assert len(evidence) == len(report.matches)
    for item, m in zip(evidence, report.matches, strict=True):
        assert f"<{m.url}>" in item
        assert f"`{m.source_file}`" in item
        assert f" {m.row}" in item
    assert rendered.sealed.signature.digest in text
    for number in _LAW[kind]:
        assert number in text
    placeholders = set(re.findall(r"\[[^\]]+\]", text))
    assert placeholders
    assert all(p == p.upper() for p in placeholders)
    deadline = "23" if kind.startswith("gdpr") else "7"
    assert re.search(rf"\*\*{deadline}\.? [A-Za-zä]+ 2026\*\*", text)


def test_captions_cannot_inject_markup(rendered: RenderedReport) -> None:
    first = rendered.sealed.report.matches[0]
    hostile = first.model_copy(update={"caption": "<script>x</script> *bold* [link](http://e)"})
    report = rendered.sealed.report.model_copy(update={"matches": [hostile]})
    sealed = type(rendered.sealed)(report, rendered.sealed.signature)
    text = compose_letter(sealed, "removal", "en").markdown
    assert r"\<script\>" in text
    assert r"\*bold\*" in text
    assert r"\[link\]" in text


def test_unknown_kind_and_language_are_refused(rendered: RenderedReport) -> None:
    with pytest.raises(InputError, match="kind"):
        compose_letter(rendered.sealed, "cease-and-desist", "en")
    with pytest.raises(InputError, match="language"):
        compose_letter(rendered.sealed, "removal", "fr")


def test_letter_pdf_has_the_rows_and_the_warning(rendered: RenderedReport, tmp_path: Path) -> None:
    pdf = tmp_path / "letter.pdf"
    pdf.write_bytes(compose_letter(rendered.sealed, "urhg-101", "de").pdf())
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Keine Rechtsberatung." in text
    assert "§ 101 UrhG" in text
    flat = "".join(text.split())
    for m in rendered.sealed.report.matches:
        assert "".join(m.url.split()) in flat


@given(st.text(st.characters(blacklist_categories=("Cc", "Cs"))))
def test_dataset_text_renders_as_itself(text: str) -> None:
    """Whatever a caption holds, the letter shows it as text, never as markup."""
    rendered = MarkdownIt("commonmark", {"html": False}).renderInline(markdown_text(text))
    assert rendered == html.escape(" ".join(text.split())).replace("&#x27;", "'")
