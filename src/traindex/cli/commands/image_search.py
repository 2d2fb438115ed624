"""The image half of ``traindex search`` (``--image FILE`` / ``--images DIR``)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from traindex.bootstrap import Services
from traindex.cli.common import console, emit_json, print_table
from traindex.cli.coverage import print_coverage
from traindex.cli.extras import needs
from traindex.core.match_evidence import Measure, SimilarEvidence, measure_of
from traindex.errors import InputError
from traindex.fingerprint.locate import IMAGE_SUFFIXES
from traindex.search.queries import ImagePathsQuery, Query

if TYPE_CHECKING:
    from traindex.search.image_results import ImageSearchResult

__all__ = ["Verification", "portfolio_files", "run_image_search"]


def portfolio_files(folder: Path) -> list[Path]:
    """Every file with an image suffix below ``folder`` (contents are checked per file)."""
    if not folder.is_dir():
        raise InputError("not a folder", path=str(folder))
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


def _summary(result: ImageSearchResult) -> None:
    data = result.to_json()
    outcomes = Counter(result.outcomes().values())
    per_dataset = Counter(f"{m.dataset}/{m.release}" for m in result.matches)
    counts = ", ".join(
        f"{outcomes[o]:,} {o}" for o in ("found", "not found", "partly searched", "not searched")
        if outcomes[o] or o in ("found", "not found")
    )  # fmt: skip
    unreadable = outcomes["unreadable"]
    console.print(f"{len(result.queries):,} image(s) searched: {counts}, {unreadable:,} unreadable")
    for name, count in per_dataset.most_common():
        console.print(f"  {name}: {count:,} matching row(s)")
    for error in data["errors"]:  # each message names its file already
        console.print(f"  [red]{error['error']}[/]", highlight=False)
    console.print("coverage:")
    print_coverage(result.coverage)  # names index shards a fanned-out search did not reach


def _measure(measured: Measure) -> str:
    """PDQ distance, or the agreeing points of a keypoint match."""
    if measured.distance is not None:
        return str(measured.distance)
    return f"{measured.inliers} points" if measured.inliers is not None else ""


def _table(result: ImageSearchResult) -> None:
    if not result.matches:
        return  # the summary below says "0 found"
    table = Table(title="image matches")
    for column in (
        "query",
        "dataset/release",
        "file:row",
        "url",
        "method",
        "distance",
        "confidence",
    ):
        table.add_column(column, overflow="fold")
    for m in result.matches:
        measured = measure_of(m.evidence)
        table.add_row(
            Path(m.query).name,
            f"{m.dataset}/{m.release}",
            f"{m.shard}:{m.row}",
            m.url or "",
            m.method,
            _measure(measured),
            measured.confidence or "",
        )
    print_table(table)


@dataclass(frozen=True, slots=True)
class Verification:
    """``--verify-candidates``: candidates picked by ``query`` (a metadata selector) or, when
    ``None``, each file's ``per_image`` CLIP neighbours; at most ``cap`` downloads."""

    query: Query | None
    per_image: int = 20
    cap: int = 200


def _verify(
    services: Services, paths: list[Path], verification: Verification, dataset: str | None
) -> ImageSearchResult:
    """Download and prove the candidates, with a bar per downloaded and compared image."""
    from traindex.search.candidates import CandidateSource, ClipCandidates, MetadataCandidates
    from traindex.search.images import read_query_file
    from traindex.search.verify import CandidateVerifier

    files = [(str(p), read_query_file(p)) for p in paths]
    search = services.search
    verifier = CandidateVerifier(
        services.settings, max_candidates=verification.cap, search=search.images
    )
    source: CandidateSource
    if verification.query is not None:
        source = MetadataCandidates(verification.query, search)
    else:
        with needs("clip"):
            source = ClipCandidates(search.similar, verification.per_image)
    with Progress(
        TextColumn("{task.description} candidates"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=console, transient=True,
    ) as progress:  # fmt: skip
        task = progress.add_task("picking", total=None)

        def advance(phase: str, done: int, total: int) -> None:
            progress.update(task, description=phase, completed=done, total=total)

        return verifier.verify(files, source, dataset=dataset, on_progress=advance)


def run_image_search(
    services: Services,
    paths: list[Path],
    *,
    dataset: str | None,
    limit: int,
    as_json: bool,
    out: Path | None,
    verification: Verification | None = None,
) -> None:
    """Search ``paths``; print a table (or JSON) and optionally write the JSON to ``out``.
    With ``verification``, prove candidate rows by download instead of the indexes.
    Releases placed on the cluster at the setting ``search_ray_address`` (see
    ``place-index``) are searched where their shards are held."""
    with needs("images"):  # the rest of `search` runs without Pillow, PDQ and faiss
        import traindex.search.images  # noqa: F401  (fail here, naming the extra)
    if verification is not None:
        _show(_verify(services, paths, verification, dataset), as_json, out)
        return
    with Progress(
        TextColumn("images"), BarColumn(), MofNCompleteColumn(), console=console, transient=True
    ) as progress:
        task = progress.add_task("images", total=len(paths))
        query = ImagePathsQuery(paths, lambda n: progress.advance(task, n))
        result = services.search.search(query, dataset=dataset, limit=limit)
    _show(result, as_json, out)


def _neighbours(result: ImageSearchResult) -> None:
    """Candidate verification's CLIP neighbours that the pixels did not prove."""
    picked = result.candidates
    if picked is None:
        return
    how = f"by {picked['source']}" + (f" ({picked['model']})" if picked.get("model") else "")
    console.print(
        f"candidates: {picked['picked']:,} picked {how}, at most {picked['cap']:,}; "
        f"{picked['downloaded']:,} downloaded and compared",
        highlight=False,
    )
    if not result.similar:
        return
    table = Table(title="similar (CLIP neighbours not proven by pixels: not evidence)")
    for column in ("query", "dataset/release", "file:row", "url", "cosine", "download"):
        table.add_column(column, overflow="fold")
    for m in result.similar:
        table.add_row(
            Path(m.query).name, f"{m.dataset}/{m.release}", f"{m.shard}:{m.row}",
            m.url or "", f"{m.score:.3f}", m.evidence_as(SimilarEvidence).candidate_status,
        )  # fmt: skip
    print_table(table)


def _show(result: ImageSearchResult, as_json: bool, out: Path | None) -> None:
    if not emit_json(result.to_json(), out, as_json):
        _table(result)
        _neighbours(result)
        _summary(result)
    errors = result.to_json()["errors"]
    if errors and len(errors) == len(result.queries):  # nothing was searched: not a success
        raise InputError(f"no image could be read ({errors[0]['query']}: {errors[0]['error']})")
