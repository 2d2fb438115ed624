"""The ISCC half of ``traindex search`` (``--iscc CODE`` / ``--declaration FILE``)."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from traindex.bootstrap import Services
from traindex.cli.common import console, emit_json, print_table
from traindex.cli.coverage import print_coverage
from traindex.cli.extras import needs
from traindex.core.match_evidence import IsccEvidence
from traindex.core.matches import SearchResult
from traindex.errors import InputError
from traindex.search.queries import IsccCodesQuery

__all__ = ["run_iscc_search"]


def run_iscc_search(
    services: Services,
    codes: list[str],
    declaration: Path | None,
    *,
    dataset: str | None,
    limit: int,
    offset: int,
    as_json: bool,
    out: Path | None,
) -> None:
    """Search the ISCC codes given and those of a declaration file; print or emit JSON."""
    with needs("images"):  # iscc-core
        from traindex.search.iscc import code_queries, declaration_queries
    queries = code_queries(codes)
    if declaration is not None:
        try:
            text = declaration.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read the declaration: {exc}", path=str(declaration)) from exc
        queries += declaration_queries(text, str(declaration))
    kind = "declaration" if declaration is not None else "iscc"
    value = str(declaration) if declaration is not None else " ".join(codes)
    result = services.search.search(
        IsccCodesQuery(queries, kind, value), dataset=dataset, limit=limit, offset=offset
    )
    if not emit_json(result.to_json(), out, as_json):
        _print(result)


def _print(result: SearchResult) -> None:
    q = result.query
    if result.matches:
        table = Table(
            "query", "dataset/release", "file:row", "url", "row iscc", "distance",
            title=f"ISCC matches (distance <= {q['threshold']} of {q['bits']} bits): "
            f"{result.total:,}",
        )  # fmt: skip
        for m in result.matches:
            evidence = m.evidence_as(IsccEvidence)
            table.add_row(
                m.query, f"{m.dataset}/{m.release}", f"{m.shard}:{m.row}", m.url or "",
                evidence.iscc, str(evidence.distance),
            )  # fmt: skip
        print_table(table)
    for name, outcome in q["outcomes"].items():
        console.print(f"{name}: {outcome}", highlight=False, soft_wrap=True)
    console.print("coverage:")
    print_coverage(result.coverage)
