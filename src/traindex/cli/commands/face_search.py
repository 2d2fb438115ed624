"""The face half of ``traindex search`` (``--face FILE``): find the one face in a photo.

A query photo that does not show exactly one usable face exits with code 2 and a message
listing the faces found (count and boxes). The photo is read, searched and dropped: it
is never copied, and the result names the query face only by its box.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.table import Table

from traindex.bootstrap import Services
from traindex.cli.common import console, emit_json, print_table
from traindex.cli.coverage import print_coverage
from traindex.cli.extras import needs
from traindex.core.match_evidence import FaceEvidence
from traindex.errors import InputError
from traindex.search.face_guard import FaceAudit
from traindex.search.queries import FaceQuery

if TYPE_CHECKING:
    from traindex.search.faces import FaceSearchResult

__all__ = ["run_face_search"]


def _table(result: FaceSearchResult) -> None:
    box = result.query_face["box"]
    title = (
        f"same face as the face at ({box['left']},{box['top']})-({box['right']},{box['bottom']}): "
        f"{len(result.matches):,} match(es) within distance {result.threshold}"
    )
    table = Table(title=title)
    for column in ("dataset/release", "file:row", "url", "distance", "confidence", "face box"):
        table.add_column(column, overflow="fold")
    for m in result.matches:
        evidence = m.evidence_as(FaceEvidence)
        face = evidence.face_box
        table.add_row(
            f"{m.dataset}/{m.release}",
            f"{m.shard}:{m.row}",
            m.url or "",
            f"{evidence.distance:.3f}",
            evidence.confidence,
            f"({face['left']},{face['top']})-({face['right']},{face['bottom']})",
        )
    print_table(table)


def run_face_search(
    services: Services,
    path: Path,
    *,
    dataset: str | None,
    limit: int,
    as_json: bool,
    out: Path | None,
) -> None:
    """Search for the face in ``path``; print a table (or JSON), optionally write JSON."""
    if not path.is_file():
        raise InputError("not a file", path=str(path))
    with needs("faces"):  # the rest of `search` runs without dlib
        import traindex.search.faces  # noqa: F401  (fail here, naming the extra)

    audit = FaceAudit(services.settings.home)
    try:
        query = FaceQuery(path.read_bytes(), name=str(path))
        result = services.search.search(query, dataset=dataset, limit=limit)
    except InputError:
        audit.record("refused")
        raise
    audit.record("searched")
    if emit_json(result.to_json(), out, as_json):
        return
    _table(result)
    print_coverage(result.coverage)
    if not result.searched:
        console.print(
            "[yellow]no release has a face index yet[/]: run "
            "`traindex fingerprint -d NAME --faces` first (face search only sees indexed faces)"
        )
