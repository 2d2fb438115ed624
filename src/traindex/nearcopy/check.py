"""Is this generated image a copy of a training image? The near-copy check, in batches.

Per output image: PDQ of the whole image and its query variants (flips, crop grid,
rotations, trimmed border; ``fingerprint/variants.py``) plus its 3 x 3 grid tiles
(``nearcopy.tiles``). All hashes of a batch go, in one call each, to the release's PDQ
index (whole training images) and to its region index (training tiles and centre crops,
``catalog.indexes.tiles``); optionally a CLIP neighbour source adds semantic neighbours.
When the release has keypoints, the outputs' ORB points are searched too and verified by
geometry (``nearcopy.located``): a training image pasted at any place and scale becomes
``keypoints`` evidence, and the match carries the ``region`` where it sits in the output.
Hits are grouped per (output, training row), turned into ``Evidence`` and judged by
``VerdictRules``; an output's verdict is its strongest row verdict. What each release let
the check see is its ``coverage`` (``nearcopy.coverage``).

Matches are ``core.matches.Match`` objects (the search JSON contract) with method
``same_image`` when PDQ saw the row and ``similar`` when only CLIP did; ``extra`` carries
the output name, the row verdict, the evidence (distances, which part, which method), the
row's LAION ``pwatermark`` and a ``watermark_flag``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from traindex.catalog.locations import split_loc
from traindex.catalog.store import Catalog
from traindex.config import Settings
from traindex.core.match_evidence import NearCopyEvidence
from traindex.core.matches import Match, MatchMethod
from traindex.errors import InputError
from traindex.fingerprint.base import Fingerprint
from traindex.fingerprint.hashing import decode_for_hashing
from traindex.fingerprint.images import DEFAULT_MAX_PIXELS
from traindex.fingerprint.pdq import PdqFingerprinter
from traindex.fingerprint.variants import DEFAULT_PLAN, query_variants
from traindex.index.base import RangeSearcher
from traindex.nearcopy.coverage import NearCopyCoverage
from traindex.nearcopy.evidence import (
    TRAINING_IMAGE,
    VERDICTS,
    Evidence,
    Verdict,
    VerdictRules,
    searches_regions,
    strongest,
)
from traindex.nearcopy.located import OutputPoints, locate, output_points, search_outputs
from traindex.nearcopy.results import NearCopyReport, OutputResult
from traindex.nearcopy.tiles import decode_for_tiles, query_tiles, region_name, unpack_region_id
from traindex.search.keypoints import KeypointMatch, KeypointRules
from traindex.search.views import ReleaseView, ViewCache, row_match

__all__ = ["NearCopyChecker", "NearCopyReport", "NeighbourSource", "OutputResult"]

_Key = tuple[int, int]  # (output index, catalog location)
_EvidenceMap = dict[_Key, dict[tuple[str, str, str], Evidence]]
_Located = dict[_Key, KeypointMatch]
_MAX_EVIDENCE = 12  # per match in the JSON: the closest ones; the verdict saw them all


class NeighbourSource(Protocol):
    """Semantic (CLIP) neighbours of output images in one release (``search.similar``)."""

    def image_neighbours(
        self, view: ReleaseView, files: Sequence[tuple[str, bytes]], k: int
    ) -> tuple[list[list[tuple[int, float]]], tuple[str, ...]] | None:
        """Per file, ``(catalog location, cosine)`` best first, and the index shards a
        fanned-out index could not reach; ``None`` when the release has no embeddings to
        search."""


@dataclass(frozen=True, slots=True)
class _Prepared:
    """One output, described: usable PDQ hashes, keypoints (when a release has them) or
    why it cannot be read."""

    hashes: list[Fingerprint]
    points: OutputPoints | None = None
    error: str | None = None


def _evidence_order(evidence: Evidence) -> tuple[int, float]:
    """Keypoints first (one item that the JSON must keep), then PDQ nearest first, CLIP."""
    rank = {"keypoints": 0, "clip": 2}.get(evidence.kind, 1)
    return rank, evidence.distance if evidence.is_pdq else -evidence.distance


def _keep(slot: dict[tuple[str, str, str], Evidence], item: Evidence) -> None:
    key = (item.kind, item.output_part, item.training_part)
    old = slot.get(key)
    if old is None or item.distance < old.distance:
        slot[key] = item


class NearCopyChecker:
    """Judge generated images against the releases of a catalog."""

    def __init__(
        self,
        catalog: Catalog,
        *,
        rules: VerdictRules | None = None,
        views: ViewCache | None = None,
        clip: NeighbourSource | None = None,
        max_matches: int = 10,
        workers: int = 1,
        keypoint_rules: KeypointRules | None = None,
        keypoints: bool = True,
    ) -> None:
        self.views = views or ViewCache(catalog)
        self.rules = rules or VerdictRules()
        self.keypoint_rules = keypoint_rules or KeypointRules()
        self.keypoints = keypoints
        self.clip = clip
        self.max_matches = max_matches
        self.workers = workers
        self.hasher = PdqFingerprinter(max_pixels=DEFAULT_MAX_PIXELS)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        catalog: Catalog | None = None,
        clip: NeighbourSource | None = None,
        workers: int = 1,
    ) -> NearCopyChecker:
        """A checker with the rules and caps of ``settings``, over ``catalog`` (the
        process's, ``bootstrap.Services``; by default a new one of ``settings``) and the
        views ``settings`` give: fanned out where ``search_ray_address`` names a cluster a
        release's indexes are placed on (``search.fanout.search_views``)."""
        from traindex.search.fanout import search_views

        catalog = catalog or Catalog(settings)
        return cls(
            catalog,
            views=search_views(catalog, settings),
            rules=VerdictRules.from_settings(settings),
            clip=clip,
            max_matches=settings.nearcopy_max_matches,
            workers=workers,
        )

    def _describe(self, name: str, data: bytes, points: bool) -> _Prepared:
        """Usable whole-image variants + grid tiles of one output (and, with ``points``,
        its keypoints), or why it is unreadable."""
        try:
            decoded = decode_for_hashing(data, name, DEFAULT_MAX_PIXELS)
            pixels = decode_for_tiles(data, name, DEFAULT_MAX_PIXELS)
            located = output_points(data, name, DEFAULT_MAX_PIXELS) if points else None
        except InputError as exc:
            return _Prepared([], error=str(exc))
        hashes = query_variants(decoded.image, self.hasher, DEFAULT_PLAN)
        hashes += query_tiles(pixels, self.hasher)
        return _Prepared([fp for fp in hashes if not fp.low_quality], located)

    def _describe_all(self, files: Sequence[tuple[str, bytes]], points: bool) -> list[_Prepared]:
        """Describe every output; with ``workers > 1`` on threads (decoding, resizing, PDQ
        and ORB release the GIL, and describing is most of the time of a check)."""
        if self.workers <= 1 or len(files) < 2:
            return [self._describe(name, data, points) for name, data in files]
        with ThreadPoolExecutor(self.workers) as pool:
            return list(pool.map(lambda f: self._describe(f[0], f[1], points), files))

    def _region_index(self, view: ReleaseView) -> RangeSearcher | None:
        return view.regions

    def _pdq_evidence(
        self, view: ReleaseView, hashes: list[list[Fingerprint]], lost: set[str]
    ) -> _EvidenceMap:
        """Every PDQ hit of the outputs' hashes in the release's two indexes, as evidence;
        index shards a fanned-out index could not reach are added to ``lost``.

        The region index (11x the rows) is searched only with the output's tiles and its
        frame-keeping variants (``searches_regions``): the crop-grid variants would mostly
        re-find what the whole-image index already finds, for twice the lookups (~63 vs ~30).
        """
        found: _EvidenceMap = defaultdict(dict)
        owned = [(qi, fp) for qi, fps in enumerate(hashes) for fp in fps]
        for regions, index in ((False, view.pdq), (True, self._region_index(view))):
            chosen = [o for o in owned if not regions or searches_regions(o[1].variant)]
            if index is None or not chosen:
                continue
            batch = np.frombuffer(b"".join(fp.digest for _, fp in chosen), np.uint8)
            hits = index.search(
                batch.reshape(-1, 32), self.rules.search_radius, workers=self.workers
            )
            lost.update(hits.not_searched)
            for q, rid, dist in zip(
                hits.query.tolist(), hits.ids.tolist(), hits.distances.tolist(), strict=True
            ):
                loc, part = unpack_region_id(rid) if regions else (rid, -1)
                qi, fp = chosen[q]
                train = region_name(part) if regions else TRAINING_IMAGE
                evidence = Evidence.of(fp.variant, train, dist)
                if evidence is not None:
                    _keep(found[(qi, loc)], evidence)
        return found

    def _keypoint_evidence(
        self, view: ReleaseView, prepared: list[_Prepared], found: _EvidenceMap, lost: set[str]
    ) -> _Located | None:
        """Verified keypoint matches as evidence; ``None`` when the release has none."""
        index = view.keypoints if self.keypoints else None
        if index is None:
            return None
        located, unreached = search_outputs(
            index, [p.points for p in prepared], self.keypoint_rules
        )
        lost.update(unreached)
        for key, match in located.items():
            _keep(found[key], Evidence("keypoints", "points", TRAINING_IMAGE, match.inliers))
        return located

    def _clip_evidence(
        self,
        view: ReleaseView,
        files: Sequence[tuple[str, bytes]],
        readable: list[int],
        found: _EvidenceMap,
        lost: set[str],
    ) -> bool:
        if self.clip is None or not readable:
            return False
        chosen = [files[qi] for qi in readable]
        answer = self.clip.image_neighbours(view, chosen, self.max_matches)
        if answer is None:
            return False
        neighbours, unreached = answer
        lost.update(unreached)
        for qi, near in zip(readable, neighbours, strict=True):
            for loc, cosine in near:
                if cosine >= self.rules.clip_similar:
                    _keep(found[(qi, loc)], Evidence("clip", "image", "embedding", cosine))
        return True

    def _ranked(self, found: _EvidenceMap) -> dict[_Key, Verdict]:
        """Row verdicts without ``novel``, at most ``max_matches`` per output, best first."""
        judged = {key: self.rules.verdict(slot.values()) for key, slot in found.items()}
        per_output: dict[int, list[tuple[int, float, _Key]]] = defaultdict(list)
        for key, verdict in judged.items():
            if verdict != "novel":
                pdq = [e.distance for e in found[key].values() if e.is_pdq]
                rank = (VERDICTS.index(verdict), min(pdq, default=256.0), key)
                per_output[key[0]].append(rank)
        kept: dict[_Key, Verdict] = {}
        for ranked in per_output.values():
            for _, _, key in sorted(ranked)[: self.max_matches]:
                kept[key] = judged[key]
        return kept

    def _matches(
        self, view: ReleaseView, prepared: list[_Prepared], found: _EvidenceMap, located: _Located
    ) -> list[tuple[int, Match]]:
        kept = self._ranked(found)
        by_shard: dict[int, list[_Key]] = defaultdict(list)
        for key in kept:
            by_shard[split_loc(key[1])[0]].append(key)
        out = []
        for sid, keys in by_shard.items():
            records = view.records(sid, [split_loc(loc)[1] for _, loc in keys])
            for key, record in zip(keys, records, strict=True):
                match = self._match(view, sid, record, kept[key], found[key])
                match = _with_region(match, located.get(key), prepared[key[0]].points, record)
                out.append((key[0], match))
        return out

    def _match(
        self,
        view: ReleaseView,
        sid: int,
        record: dict[str, Any],
        verdict: Verdict,
        slot: dict[tuple[str, str, str], Evidence],
    ) -> Match:
        items = sorted(slot.values(), key=_evidence_order)
        pdq = [e for e in items if e.is_pdq]
        frames = [e.distance for e in pdq if e.kind != "tile"]
        cosines = [e.distance for e in items if e.kind == "clip"]
        evidence = NearCopyEvidence(
            verdict=verdict,
            watermark_flag=self.rules.flag_watermark(verdict, record.get("pwatermark")),
            tiles_matched=self.rules.tiles_agreeing(pdq),
            distance=int(min(frames)) if frames else None,
            cosine=round(max(cosines), 4) if cosines else None,
            evidence=[e.to_json() for e in items[:_MAX_EVIDENCE]],
        )
        score = self.rules.score(items)
        seen = pdq or any(e.kind == "keypoints" for e in items)
        method: MatchMethod = "same_image" if seen else "similar"
        return row_match(view, sid, record, method=method, score=score, evidence=evidence)

    def check(
        self, files: Sequence[tuple[str, bytes]], *, dataset: str | None = None
    ) -> NearCopyReport:
        """Judge each ``(name, bytes)`` output against every release (or ``dataset``)."""
        views = self.views.select(dataset)
        points = self.keypoints and any(view.keypoints is not None for view in views)
        prepared = self._describe_all(files, points)
        hashes = [p.hashes for p in prepared]
        readable = [qi for qi, p in enumerate(prepared) if p.error is None]
        per_output: dict[int, list[Match]] = defaultdict(list)
        report = NearCopyReport([], self.rules, dataset, keypoints=self.keypoint_rules)
        for view in views:
            lost: set[str] = set()
            found = self._pdq_evidence(view, hashes, lost)
            located = self._keypoint_evidence(view, prepared, found, lost)
            methods = ["pdq"] if view.pdq is not None else []
            methods += ["regions"] if self._region_index(view) is not None else []
            methods += ["keypoints"] if located is not None else []
            if self._clip_evidence(view, files, readable, found, lost):
                methods.append("clip")
            name = f"{view.manifest.name}/{view.manifest.release}"
            report.searched[name] = methods
            rows = view.manifest.rows
            coverage = NearCopyCoverage.of(name, view.release, rows, methods)
            report.coverage[name] = replace(coverage, index_shards_not_searched=sorted(lost))
            for qi, match in self._matches(view, prepared, found, located or {}):
                output = replace(match.evidence_as(NearCopyEvidence), output=files[qi][0])
                per_output[qi].append(replace(match, evidence=output))
        for qi, (name, _) in enumerate(files):
            matches = sorted(
                per_output[qi],
                key=lambda m: (VERDICTS.index(m.evidence_as(NearCopyEvidence).verdict), -m.score),
            )[: self.max_matches]
            verdict = strongest(m.evidence_as(NearCopyEvidence).verdict for m in matches)
            report.results.append(OutputResult(name, verdict, matches, prepared[qi].error))
        return report

    def check_paths(
        self,
        paths: Sequence[Path],
        *,
        dataset: str | None = None,
        batch: int = 64,
        on_progress: Callable[[int], None] = lambda n: None,
    ) -> NearCopyReport:
        """Judge files on disk in batches (memory stays bounded for thousands of outputs);
        an unreadable file becomes a result with ``error`` set."""
        total = NearCopyReport([], self.rules, dataset, keypoints=self.keypoint_rules)
        for start in range(0, len(paths), batch):
            chunk = paths[start : start + batch]
            files: list[tuple[str, bytes]] = []
            for path in chunk:
                try:
                    files.append((str(path), path.read_bytes()))
                except OSError as exc:
                    error = f"cannot read file: {exc.strerror or exc}"
                    total.results.append(OutputResult(str(path), "novel", error=error))
            part = self.check(files, dataset=dataset)
            total.results.extend(part.results)
            total.searched.update(part.searched)
            total.coverage.update(part.coverage)
            on_progress(len(chunk))
        return total


def _with_region(
    match: Match,
    located: KeypointMatch | None,
    points: OutputPoints | None,
    record: dict[str, Any],
) -> Match:
    """Where the training image sits in the output, from the keypoint transform (when
    the match has one and the row records the training image's width and height)."""
    if located is None or points is None:
        return match
    region = locate(located, points.frame, (record.get("width"), record.get("height")))
    evidence = replace(
        match.evidence_as(NearCopyEvidence),
        keypoint_inliers=located.inliers,
        region=region.to_json() if region is not None else None,
    )
    return replace(match, evidence=evidence)
