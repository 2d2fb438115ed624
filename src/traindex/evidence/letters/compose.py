"""Compose the letter a creator sends, from a verified evidence report.

Four kinds — GDPR Art. 15 access, GDPR Art. 17 erasure, the German § 101 UrhG / § 242 BGB
information request, and a removal request to the host of a dataset — in English, German
and Dutch. Everything the report knows is filled in (datasets, every matched row, the
report's id, digest and signing key, dates and deadlines); placeholders in square
brackets remain only for what the sender must supply (names, addresses, signature).
Every letter carries a visible "not legal advice" line. Templates are Markdown
(``templates/letters/<lang>.md.j2``); the PDF is the same Markdown rendered to HTML.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from markdown_it import MarkdownIt

from traindex.errors import InputError
from traindex.evidence.render import html_to_pdf, template_env
from traindex.evidence.seal import SealedReport

__all__ = [
    "KINDS",
    "LANGUAGES",
    "Language",
    "Letter",
    "LetterKind",
    "compose_letter",
    "markdown_text",
]

LetterKind = Literal["gdpr-access", "gdpr-erasure", "urhg-101", "removal"]
Language = Literal["en", "de", "nl"]
KINDS: tuple[LetterKind, ...] = ("gdpr-access", "gdpr-erasure", "urhg-101", "removal")
LANGUAGES: tuple[Language, ...] = ("en", "de", "nl")

_MONTHS = {
    "en": "January February March April May June July August September October November December",
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    "nl": "januari februari maart april mei juni juli augustus september oktober november december",
}
# Markdown punctuation that could turn a dataset caption or URL into markup.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|&])")
_LETTER_CSS = """
@page { size: A4; margin: 22mm 20mm; @bottom-right { content: counter(page) " / " counter(pages);
  font-size: 8pt; } }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10pt; line-height: 1.4; }
blockquote { border: 1pt solid #b00; padding: 4pt 8pt; margin: 0 0 12pt; color: #700; }
li { margin-bottom: 4pt; break-inside: avoid; overflow-wrap: anywhere; }
h1 { font-size: 13pt; }
"""


@dataclass(frozen=True, slots=True)
class Letter:
    kind: LetterKind
    lang: Language
    markdown: str

    def pdf(self) -> bytes:
        """The letter as PDF (Markdown -> HTML -> WeasyPrint); raw HTML is escaped."""
        body = MarkdownIt("commonmark", {"html": False}).render(self.markdown)
        page = (
            f'<!DOCTYPE html><html lang="{self.lang}"><head><meta charset="utf-8">'
            f"<style>{_LETTER_CSS}</style></head><body>{body}</body></html>"
        )
        return html_to_pdf(page)


def _long_date(day: date, lang: str) -> str:
    month = _MONTHS[lang].split()[day.month - 1]
    return f"{day.day}. {month} {day.year}" if lang == "de" else f"{day.day} {month} {day.year}"


def _plus_month(day: date) -> date:
    """The same day next month (or its last day): GDPR Art. 12(3)'s "one month"."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def markdown_text(value: object) -> str:
    """``value`` on one line, with every character Markdown could read as markup escaped."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(value).split()))


def compose_letter(
    sealed: SealedReport, kind: str, lang: str, *, today: date | None = None
) -> Letter:
    """The Markdown letter of ``kind`` in ``lang`` listing every matched row of the report."""
    if kind not in KINDS:
        raise InputError(f"unknown letter kind {kind!r}; choose one of {', '.join(KINDS)}")
    if lang not in LANGUAGES:
        raise InputError(f"unknown language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    report = sealed.report
    if not report.matches:
        raise InputError("the report lists no matching rows: there is nothing to request")
    day = today or report.created_at.date()
    deadline = _plus_month(day) if kind.startswith("gdpr") else day + timedelta(days=14)
    env = template_env().overlay(autoescape=False)
    env.filters["md"] = markdown_text
    text = env.get_template(f"letters/{lang}.md.j2").render(
        kind=kind,
        report=report,
        signature=sealed.signature,
        datasets=sorted({f"{m.dataset} ({m.release})" for m in report.matches}),
        today=_long_date(day, lang),
        deadline=_long_date(deadline, lang),
        created=report.created_at.strftime("%Y-%m-%d %H:%M UTC"),
    )
    return Letter(kind, lang, text)
