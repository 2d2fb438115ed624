"""The lawyer's page: the first page of a report, in English, German or Dutch.

It says, for someone who has never heard of traindex, what was compared with what, what
was covered and what was not, which method found the matches and what its numbers mean,
and how to check the signature, the timestamp and the rows without trusting traindex.
Sections are a list of (heading, paragraphs) built from the signed report only, so a new
kind of fact (e.g. a per-release coverage record) is one more section function.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Literal

from traindex.core.timestamps import MACHINE_CLOCK
from traindex.evidence.model import EvidenceReport
from traindex.evidence.seal import SealedReport
from traindex.evidence.wording_i18n import METHODS, TEXT

__all__ = ["LANGUAGES", "Language", "Section", "first_page", "time_statement"]

Language = Literal["en", "de", "nl"]
LANGUAGES: tuple[Language, ...] = ("en", "de", "nl")
Section = tuple[str, list[str]]


def _compared(report: EvidenceReport, t: dict[str, str]) -> Section:
    kinds = Counter(q.kind for q in report.queries)
    asked = ", ".join(f"{n} x {kind}" for kind, n in sorted(kinds.items()))
    releases = [r for r in report.releases if r.in_catalog]
    names = "; ".join(f"{r.dataset} / {r.release} ({r.rows or 0:,} {t['rows']})" for r in releases)
    return t["compared_h"], [t["compared"].format(asked=asked, releases=names or "-")]


def _covered(report: EvidenceReport, t: dict[str, str]) -> Section:
    lines = []
    for r in report.releases:
        if not r.in_catalog:
            lines.append(t["not_in_catalog"].format(name=f"{r.dataset} / {r.release}"))
            continue
        if r.coverage is not None:  # an image search: only fingerprinted rows were compared
            name = f"{r.dataset} / {r.release}"
            lines.append(t["image_coverage"].format(name=name, summary=r.coverage.summary))
            continue
        lines.append(
            t["covered"].format(
                name=f"{r.dataset} / {r.release}",
                rows=r.rows or 0,
                failed=r.failed_rows or 0,
                rejected=r.rejected_rows or 0,
                files=len(r.sources),
            )
        )
    negatives = len(report.negatives)
    lines.append(t["negatives"].format(n=negatives, total=len(report.queries)))
    lines.append(t["not_covered"])
    return t["covered_h"], lines


def _methods(report: EvidenceReport, t: dict[str, str], lang: Language) -> Section:
    used = Counter(m.method for m in report.matches)
    if not used:
        return t["methods_h"], [t["no_matches"]]
    lines = []
    for method, count in sorted(used.items()):
        meaning = METHODS.get(method, {}).get(lang)
        example = next(m for m in report.matches if m.method == method)
        lines.append(
            t["method"].format(
                method=method,
                n=count,
                meaning=meaning or example.explanation,
                measure=example.measure,
                threshold=example.threshold or "-",
            )
        )
    return t["methods_h"], lines


def _checks(sealed: SealedReport, t: dict[str, str]) -> Section:
    sig = sealed.signature
    stamp = sealed.timestamp
    time_line = (
        t["timestamp"].format(authority=stamp["authority"], time=stamp["time"])
        if stamp
        else t["clock"]
    )
    rows = sum(1 for m in sealed.report.matches if m.published)
    return t["check_h"], [
        t["check_pdf"].format(fp=sig.key_fingerprint),
        t["check_json"].format(fp=sig.key_fingerprint, key=sig.public_key),
        time_line,
        t["check_rows"].format(n=rows, total=len(sealed.report.matches)),
    ]


SECTIONS: list[Callable[[SealedReport, dict[str, str], Language], Section]] = [
    lambda s, t, lang: _compared(s.report, t),
    lambda s, t, lang: _covered(s.report, t),
    lambda s, t, lang: _methods(s.report, t, lang),
    lambda s, t, lang: _checks(s, t),
]


def first_page(sealed: SealedReport, lang: Language) -> dict[str, object]:
    """Template context of the first page: title, intro and the sections, in ``lang``."""
    t = TEXT[lang]
    return {
        "lang": lang,
        "title": t["title"],
        "intro": t["intro"].format(
            created=sealed.report.created_at.strftime("%Y-%m-%d %H:%M UTC"),
            requested_by=sealed.report.requested_by,
        ),
        "sections": [make(sealed, t, lang) for make in SECTIONS],
    }


def time_statement(sealed: SealedReport) -> str:
    """What the report's time rests on: a timestamp authority, or the machine's clock."""
    stamp = sealed.timestamp
    if stamp is None:
        return MACHINE_CLOCK
    return f"timestamped {stamp['time']} by {stamp['authority']} (RFC 3161 token in the JSON)"
