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
from functools import partial
from typing import Literal

from traindex.core.timestamps import MACHINE_CLOCK
from traindex.evidence.model import EvidenceReport, ReleaseSearched
from traindex.evidence.seal import SealedReport
from traindex.evidence.wording_i18n import METHODS, REASONS, TEXT

__all__ = ["LANGUAGES", "Language", "Section", "first_page", "time_statement"]

Language = Literal["en", "de", "nl"]
LANGUAGES: tuple[Language, ...] = ("en", "de", "nl")
Section = tuple[str, list[str]]


def _number(n: int, lang: Language) -> str:
    """``n`` with the language's thousands separator: 9,999 in English is 9.999 in German
    and Dutch, where "9,999" reads as a number just below ten."""
    text = f"{n:,}"
    return text if lang == "en" else text.replace(",", ".")


def _compared(report: EvidenceReport, t: dict[str, str], lang: Language) -> Section:
    kinds = Counter(q.kind for q in report.queries)
    asked = ", ".join(f"{n} x {kind}" for kind, n in sorted(kinds.items()))
    releases = [r for r in report.releases if r.in_catalog]
    names = "; ".join(
        f"{r.dataset} / {r.release} ({_number(r.rows or 0, lang)} {t['rows']})" for r in releases
    )
    # "every searchable row" is true of key and text searches only: an image search
    # compares fingerprinted rows, and the coverage section says how many those were.
    said = t["compared_images"] if any(r.coverage for r in report.releases) else t["compared"]
    return t["compared_h"], [said.format(asked=asked, releases=names or "-")]


def _image_coverage(release: ReleaseSearched, t: dict[str, str], lang: Language) -> str:
    """The coverage of an image search over ``release`` in ``lang`` (``core.coverage``'s
    sentence, rebuilt from the signed numbers rather than quoted in English)."""
    covered = release.coverage
    assert covered is not None
    rows = covered.rows if covered.rows is not None else release.rows or 0
    shards = covered.shards if covered.shards is not None else len(release.sources)
    signals = ", ".join(covered.signals)
    n = partial(_number, lang=lang)
    if covered.rows_searched <= 0:
        parts = [t["image_none"].format(rows=n(rows), signals=signals)]
    elif covered.rows_searched >= rows:
        parts = [t["image_all"].format(rows=n(rows), signals=signals)]
    else:
        parts = [t["image_part"].format(n=n(covered.rows_searched), rows=n(rows), signals=signals)]
    if covered.failures:
        reasons = sorted(covered.failures.items(), key=lambda kv: (-kv[1], kv[0]))
        said = ", ".join(f"{n(k)} {REASONS.get(why, {}).get(lang, why)}" for why, k in reasons)
        parts.append(t["image_failed"].format(n=n(sum(covered.failures.values())), reasons=said))
    if covered.shards_not_searched:
        missing = len(covered.shards_not_searched)
        parts.append(t["image_shards"].format(n=n(missing), total=n(shards)))
    name = f"{release.dataset} / {release.release}"
    return t["image_coverage"].format(name=name, summary="; ".join(parts))


def _covered(report: EvidenceReport, t: dict[str, str], lang: Language) -> Section:
    lines = []
    for r in report.releases:
        if not r.in_catalog:
            lines.append(t["not_in_catalog"].format(name=f"{r.dataset} / {r.release}"))
            continue
        if r.coverage is not None:  # an image search: only fingerprinted rows were compared
            lines.append(_image_coverage(r, t, lang))
            continue
        lines.append(
            t["covered"].format(
                name=f"{r.dataset} / {r.release}",
                rows=_number(r.rows or 0, lang),
                failed=_number(r.failed_rows or 0, lang),
                rejected=_number(r.rejected_rows or 0, lang),
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
    lines = [t["english_terms"]] if t["english_terms"] else []
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
    lines = [
        t["check_pdf"].format(fp=sig.key_fingerprint),
        t["check_json"].format(fp=sig.key_fingerprint, key=sig.public_key),
        time_line,
    ]
    proofs = [m.download_proof for m in sealed.report.matches if m.download_proof]
    if proofs:
        stamped = sum(1 for p in proofs if p.timestamp is not None)
        lines.append(t["downloads"].format(n=len(proofs), stamped=stamped))
    lines.append(t["check_rows"].format(n=rows, total=len(sealed.report.matches)))
    return t["check_h"], lines


SECTIONS: list[Callable[[SealedReport, dict[str, str], Language], Section]] = [
    lambda s, t, lang: _compared(s.report, t, lang),
    lambda s, t, lang: _covered(s.report, t, lang),
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
