"""Build an ``EvidenceReport`` from search results and the catalog's manifests.

Input is what a search returns (``SearchResult``, ``ImageSearchResult``) or the JSON the
CLI and API write for them (``traindex search --json``); the JSON is read back into
``Match`` objects, so both roads give the same report. The catalog adds what a search
result does not carry: each release's manifest (source files with SHA-256 and row
counts) and, for image matches, the dataset image's recorded SHA-256 and PDQ.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, cast, get_args

from pydantic import TypeAdapter, ValidationError

from traindex import __version__
from traindex.catalog.manifest import Manifest, utc_now
from traindex.catalog.store import Catalog
from traindex.catalog.text import query_terms
from traindex.core.coverage import Coverage, ReleaseCoverage, outcome_without_match
from traindex.core.filenames import display_name
from traindex.core.licenses import license_url
from traindex.core.match_evidence import ImageEvidence, MatchEvidence, evidence_type
from traindex.core.matches import Match, SearchResult
from traindex.core.proofs import proof_content, proof_time_basis
from traindex.core.signing import SignatureError
from traindex.core.timestamps import check_timestamp
from traindex.errors import DatasetNotFoundError, InputError
from traindex.evidence.model import (
    DownloadProof,
    EvidenceMatch,
    EvidenceReport,
    ImageDigests,
    Outcome,
    QueryMatch,
    QueryRecord,
    ReleaseCovered,
    ReleaseSearched,
    SourceFile,
)
from traindex.evidence.rowimages import RowImage, RowImages, RowRef, row_ref
from traindex.evidence.wording import describe
from traindex.search.image_results import ImageSearchResult

__all__ = ["SearchRun", "build_report", "match_from_json", "runs_from_json", "runs_from_result"]

_MATCH_FIELDS = tuple(f.name for f in fields(Match) if f.name not in ("extra", "evidence"))
_MATCH = TypeAdapter(Match)
_EVIDENCE: dict[type[MatchEvidence], TypeAdapter[Any]] = {
    kind: TypeAdapter(kind) for kind in get_args(MatchEvidence)
}


@dataclass
class SearchRun:
    """One search as a report needs it: per query, its matches and digests."""

    kind: str
    dataset: str | None
    queries: list[str]
    matches: list[Match]
    totals: dict[str, int] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    images: dict[str, ImageDigests] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    coverage: Coverage | None = None

    def query_of(self, match: Match) -> str:
        """The query ``match`` answers, as the report shows it (a file's name, no folder)."""
        raw = match.query or self.queries[0]
        return self.names.get(raw, raw)

    def hide_folders(self) -> SearchRun:
        """Show query files by name only: a report never shows the sender's local paths."""
        taken: set[str] = set()
        self.names = {q: display_name(q, taken) for q in self.queries}
        shown = self.names
        self.queries = [shown[q] for q in self.queries]
        self.errors = {
            shown.get(k, k): v.replace(k, shown.get(k, k)) for k, v in self.errors.items()
        }
        self.totals = {shown.get(k, k): v for k, v in self.totals.items()}
        self.images = {shown.get(k, k): v for k, v in self.images.items()}
        return self


def match_from_json(data: dict[str, Any]) -> Match:
    """The inverse of ``Match.to_json``: known fields and the evidence's back
    (type-checked), the rest ``extra``."""
    if not isinstance(data, dict):
        raise InputError(f"not a traindex match: {data!r:.80}")
    known = {name: data[name] for name in _MATCH_FIELDS if name in data}
    rest = {k: v for k, v in data.items() if k not in _MATCH_FIELDS}
    kind = evidence_type(set(rest))
    names = {f.name for f in fields(kind)} if kind is not None else set()
    evidence = {k: v for k, v in rest.items() if k in names}
    extra = {k: v for k, v in rest.items() if k not in names}
    try:
        if kind is not None:
            known["evidence"] = _EVIDENCE[kind].validate_python(evidence)
        return _MATCH.validate_python({**known, "extra": extra})
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise InputError(f"not a traindex match: {where}: {error['msg']}") from exc


def runs_from_result(result: SearchResult | ImageSearchResult) -> SearchRun:
    """A ``SearchRun`` from a search made in this process (keeps query image digests)."""
    if isinstance(result, SearchResult):
        run = _text_run(result.query, result.matches, result.total)
        run.coverage = result.coverage
        return run
    run = _image_run(result.to_json(), result.matches)
    run.images = {q.name: ImageDigests(sha256=q.sha256 or None, pdq=q.pdq) for q in result.queries}
    return run.hide_folders()


def runs_from_json(document: dict[str, Any] | list[dict[str, Any]]) -> list[SearchRun]:
    """Runs from ``traindex search --json`` output (one answer or a list of answers).

    Anything that is not that JSON raises ``InputError`` saying so, never a crash.
    """
    answers = document if isinstance(document, list) else [document]
    try:
        return [_run_from_json(answer) for answer in answers]
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        raise InputError(f"not traindex search JSON: {exc!r}") from exc


def _run_from_json(answer: dict[str, Any]) -> SearchRun:
    if not isinstance(answer, dict) or not isinstance(answer.get("query"), dict):
        raise InputError("not traindex search JSON: each answer needs a 'query' object")
    matches = [match_from_json(m) for m in answer.get("matches", [])]
    if answer["query"].get("kind") in ("image", "images"):
        return _image_run(answer, matches).hide_folders()
    run = _text_run(answer["query"], matches, int(answer.get("total", 0)))
    run.coverage = _coverage(answer)
    return run


def _coverage(answer: dict[str, Any]) -> Coverage | None:
    data = answer.get("coverage")
    return Coverage.from_json(data) if isinstance(data, dict) else None


def _text_run(query: dict[str, Any], matches: list[Match], total: int) -> SearchRun:
    value = str(query.get("normalised") or query.get("value", ""))
    kind = str(query.get("kind"))
    if kind != "text":
        return SearchRun(kind, query.get("dataset"), [value], matches, {value: total})
    # A report says these rows are the sender's: a row that holds only some of the words
    # (an ``OR`` search, or a search made before all words were required) is no evidence.
    words = query_terms(value)
    kept = [m for m in matches if set(words) <= set(m.matched_terms)]
    run = SearchRun(kind, query.get("dataset"), [value], kept, {value: total})
    dropped = len(matches) - len(kept)
    if dropped:
        if total == len(matches):
            run.totals[value] = len(kept)
        run.notes[value] = (
            f"{dropped:,} row(s) that contain only some of the words are not listed: "
            f"evidence lists only rows whose caption contains every word ({', '.join(words)})"
        )
    return run


def _image_run(answer: dict[str, Any], matches: list[Match]) -> SearchRun:
    query = answer["query"]
    errors = {e["query"]: e["error"] for e in answer.get("errors", [])}
    run = SearchRun("image", query.get("dataset"), list(query.get("files", [])), matches)
    run.errors = errors
    run.coverage = _coverage(answer)
    run.totals = dict(Counter(m.query for m in matches))
    for m in matches:
        if isinstance(m.evidence, ImageEvidence):
            digests = ImageDigests(sha256=m.evidence.query_sha256, pdq=m.evidence.query_pdq)
        else:
            digests = ImageDigests(sha256=None, pdq=None)
        run.images.setdefault(m.query, digests)
    return run


def _covered(coverage: Coverage, release: ReleaseCoverage) -> ReleaseCovered:
    data = release.to_json(coverage.signals)
    return ReleaseCovered(
        signals=list(coverage.signals),
        state=data["state"],
        rows=data["rows"],
        rows_searched=data["rows_searched"],
        shards=data["shards"],
        failures=data["failures"],
        shards_not_searched=data["shards_not_searched"],
        index_shards_not_searched=data["index_shards_not_searched"],
        summary=data["summary"],
    )


def _release(
    dataset: str, release: str, manifest: Manifest | None, covered: ReleaseCovered | None
) -> ReleaseSearched:
    if manifest is None:
        return ReleaseSearched(dataset=dataset, release=release, in_catalog=False, coverage=covered)
    return ReleaseSearched(
        dataset=dataset,
        release=release,
        in_catalog=True,
        format=manifest.format,
        rows=manifest.rows,
        failed_rows=manifest.failed_rows,
        rejected_rows=manifest.rejected_rows,
        ingested_at=manifest.updated_at,
        sources=[
            SourceFile(path=s.relpath, bytes=s.size, sha256=s.sha256, rows=s.rows)
            for s in manifest.sources
        ],
        coverage=covered,
    )


def _releases(catalog: Catalog, runs: Sequence[SearchRun]) -> list[ReleaseSearched]:
    manifests: dict[tuple[str, str], Manifest | None] = {}
    for run in runs:
        try:
            selected = catalog.select(run.dataset)
        except DatasetNotFoundError:
            selected = []  # searched elsewhere: cite the matched releases only
        manifests.update({(m.name, m.release): m for _, m in selected})
        for match in run.matches:
            manifests.setdefault((match.dataset, match.release), None)
    covered: dict[tuple[str, str], ReleaseCovered] = {}
    for run in runs:
        if run.coverage is None:
            continue
        for rc in run.coverage.releases:
            covered.setdefault((rc.dataset, rc.release), _covered(run.coverage, rc))
            manifests.setdefault((rc.dataset, rc.release), None)
    return [
        _release(name, rel, manifests[(name, rel)], covered.get((name, rel)))
        for name, rel in sorted(manifests)
    ]


def _queries(run: SearchRun) -> Iterable[QueryRecord]:
    listed = Counter(run.query_of(m) for m in run.matches)
    for name in run.queries:
        error = run.errors.get(name)
        total = run.totals.get(name, 0)
        outcome = _outcome(run, error, total)
        if outcome in ("not searched", "partly searched") and run.coverage is not None:
            error = run.coverage.summary()
        yield QueryRecord(
            kind=run.kind,
            value=name,
            datasets=run.dataset or "all",
            outcome=outcome,
            matches=total,
            listed=listed.get(name, 0),
            detail=error or run.notes.get(name),
            image=run.images.get(name),
        )


def _outcome(run: SearchRun, error: str | None, total: int) -> Outcome:
    """Absence is claimed only of rows compared (``core.coverage``)."""
    if error:
        return "unreadable"
    if total:
        return "found"
    return cast(Outcome, outcome_without_match(run.coverage))


def _match(run: SearchRun, m: Match, row: RowImage | None) -> EvidenceMatch:
    words = describe(m)
    image = m.method in ("same_file", "same_image") and isinstance(m.evidence, ImageEvidence)
    return EvidenceMatch(
        query=run.query_of(m),
        dataset=m.dataset,
        release=m.release,
        source_file=m.shard,
        row=m.row,
        key=m.key,
        url=m.url,
        caption=m.caption,
        license=m.license,
        license_url=license_url(m.license) if m.license else None,
        method=words.method,
        measure=words.measure,
        threshold=words.threshold,
        confidence=words.confidence,
        explanation=words.explanation,
        matched_terms=list(m.matched_terms),
        query_image=run.images.get(run.query_of(m)) if image else None,
        dataset_image=ImageDigests(sha256=row.sha256, pdq=row.pdq) if row else None,
        download_proof=_proof(m),
    )


def _proof(m: Match) -> DownloadProof | None:
    """The row's download proof; its token must be about this very proof (a proof edited
    in a saved search JSON is refused), and its time basis is restated from the token."""
    proof = m.evidence.verified_by_download if isinstance(m.evidence, ImageEvidence) else None
    if proof is None:
        return None
    try:
        parsed = DownloadProof.model_validate(proof)
        if parsed.timestamp is not None:
            check_timestamp(parsed.timestamp, proof_content(proof), [])
    except (ValidationError, SignatureError) as exc:
        raise InputError(
            f"download proof of {m.dataset}/{m.release} {m.shard} row {m.row}: {exc}"
        ) from exc
    return parsed.model_copy(update={"time_basis": proof_time_basis(parsed.timestamp)})


def build_report(
    runs: Sequence[SearchRun],
    catalog: Catalog,
    *,
    requested_by: str,
    now: datetime | None = None,
    digests: Mapping[RowRef, RowImage] | None = None,
) -> EvidenceReport:
    """The report body for ``runs``; ``now`` (UTC) defaults to the current time.

    ``digests`` are the matched rows' recorded image digests (``RowImages.digests``);
    looked up in ``catalog`` when not given.
    """
    if digests is None:
        digests = RowImages(catalog).digests([m for run in runs for m in run.matches])
    return EvidenceReport(
        report_id=str(uuid.uuid4()),
        requested_by=requested_by.strip() or "(not stated)",
        created_at=now or utc_now(),
        traindex_version=__version__,
        releases=_releases(catalog, runs),
        queries=[q for run in runs for q in _queries(run)],
        matches=_rows(runs, digests),
    )


_CERTAINTY = {"certain": 0, "likely": 1, "review": 2}


def _rows(runs: Sequence[SearchRun], digests: Mapping[RowRef, RowImage]) -> list[EvidenceMatch]:
    """Each matched row once, in first-match order, with every search that matched it."""
    found: dict[tuple[str, str, str, int], list[EvidenceMatch]] = {}
    for run in runs:
        for m in run.matches:
            key = (m.dataset, m.release, m.shard, m.row)
            found.setdefault(key, []).append(_match(run, m, digests.get(row_ref(m))))
    return [_merged(hits) for hits in found.values()]


def _merged(hits: list[EvidenceMatch]) -> EvidenceMatch:
    best = min(hits, key=lambda h: _CERTAINTY.get(h.confidence, len(_CERTAINTY)))
    by = [QueryMatch(**h.model_dump(include=set(QueryMatch.model_fields))) for h in hits]
    return best.model_copy(update={"matched_by": by})
