"""Is this generated image a copy of a training image? The near-copy check, in batches.

Per output image: PDQ of the whole image and its query variants (flips, crop grid,
rotations, trimmed border; ``fingerprint/variants.py``) plus its 3 x 3 grid tiles
(``nearcopy.tiles``). All hashes of a batch go, in one call each, to the release's PDQ
index (whole training images) and to its region index (training tiles and centre crops,
``nearcopy.tile_index``); optionally a CLIP neighbour source adds semantic neighbours.
Hits are grouped per (output, training row), turned into ``Evidence`` and judged by
``VerdictRules``; an output's verdict is its strongest row verdict.

Matches are ``core.matches.Match`` objects (the search JSON contract) with method
``same_image`` when PDQ saw the row and ``similar`` when only CLIP did; ``extra`` carries
the output name, the row verdict, the evidence (distances, which part, which method), the
row's LAION ``pwatermark`` and a ``watermark_flag``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from traindex.catalog.store import Catalog
from traindex.catalog.text import split_loc
from traindex.config import Settings
from traindex.core.matches import Match, MatchMethod
from traindex.errors import InputError
from traindex.fingerprint.base import Fingerprint
from traindex.fingerprint.images import DEFAULT_MAX_PIXELS
from traindex.fingerprint.pdq import PdqFingerprinter
from traindex.fingerprint.variants import DEFAULT_PLAN, query_variants
from traindex.index.binary import MultiIndexHashIndex
from traindex.nearcopy.evidence import (
    TRAINING_IMAGE,
    VERDICTS,
    Evidence,
    Verdict,
    VerdictRules,
    searches_regions,
    strongest,
)
from traindex.nearcopy.tile_index import open_tiles, tiles_stamp
from traindex.nearcopy.tiles import decode_for_tiles, query_tiles, region_name, unpack_region_id
from traindex.search.hashing import decode_for_hashing
from traindex.search.views import ReleaseView, ViewCache, row_match

__all__ = ["NearCopyChecker", "NearCopyReport", "NeighbourSource", "OutputResult"]

_Key = tuple[int, int]  # (output index, catalog location)
_EvidenceMap = dict[_Key, dict[tuple[str, str, str], Evidence]]
_MAX_EVIDENCE = 12  # per match in the JSON: the closest ones; the verdict saw them all


class NeighbourSource(Protocol):
    """Semantic (CLIP) neighbours of output images in one release (``search.similar``)."""

    def image_neighbours(
        self, view: ReleaseView, files: Sequence[tuple[str, bytes]], k: int
    ) -> list[list[tuple[int, float]]] | None:
        """Per file, ``(catalog location, cosine)`` best first; ``None`` when the release
        has no embeddings to search."""


@dataclass
class OutputResult:
    """The verdict on one generated image and the training rows behind it."""

    image: str
    verdict: Verdict
    matches: list[Match] = field(default_factory=list)
    error: str | None = None

    @property
    def watermark_flag(self) -> bool:
        return any(m.extra.get("watermark_flag") for m in self.matches)

    def to_json(self) -> dict[str, Any]:
        verdict = self.verdict if self.error is None else None
        data: dict[str, Any] = {"image": self.image, "verdict": verdict}
        data["watermark_flag"] = self.watermark_flag
        data["matches"] = [m.to_json() for m in self.matches]
        if self.error is not None:
            data["error"] = self.error
        return data


@dataclass
class NearCopyReport:
    """Results for a batch of outputs, the thresholds used and what was searched where."""

    results: list[OutputResult]
    rules: VerdictRules
    dataset: str | None = None
    searched: dict[str, list[str]] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """Outputs per verdict (and ``error``), in verdict order."""
        counts = {
            v: sum(r.verdict == v and r.error is None for r in self.results) for v in VERDICTS
        }
        return counts | {"error": sum(r.error is not None for r in self.results)}

    def to_json(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "thresholds": asdict(self.rules),
            "searched": self.searched,
            "counts": self.counts(),
            "results": [r.to_json() for r in self.results],
        }


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
    ) -> None:
        self.views = views or ViewCache(catalog)
        self.rules = rules or VerdictRules()
        self.clip = clip
        self.max_matches = max_matches
        self.workers = workers
        self.hasher = PdqFingerprinter(max_pixels=DEFAULT_MAX_PIXELS)
        self._tiles: dict[str, MultiIndexHashIndex | None] = {}

    @classmethod
    def from_settings(
        cls, settings: Settings, *, clip: NeighbourSource | None = None, workers: int = 1
    ) -> NearCopyChecker:
        return cls(
            Catalog(settings),
            rules=VerdictRules.from_settings(settings),
            clip=clip,
            max_matches=settings.nearcopy_max_matches,
            workers=workers,
        )

    def _hashes(self, name: str, data: bytes) -> tuple[list[Fingerprint], str | None]:
        """Usable whole-image variants + grid tiles of one output, or why it is unreadable."""
        try:
            decoded = decode_for_hashing(data, name, DEFAULT_MAX_PIXELS)
            pixels = decode_for_tiles(data, name, DEFAULT_MAX_PIXELS)
        except InputError as exc:
            return [], str(exc)
        hashes = query_variants(decoded.image, self.hasher, DEFAULT_PLAN)
        hashes += query_tiles(pixels, self.hasher)
        return [fp for fp in hashes if not fp.low_quality], None

    def _hash_all(
        self, files: Sequence[tuple[str, bytes]]
    ) -> list[tuple[list[Fingerprint], str | None]]:
        """Hash every output; with ``workers > 1`` on threads (decoding, resizing and PDQ
        release the GIL, and hashing is most of the time of a check)."""
        if self.workers <= 1 or len(files) < 2:
            return [self._hashes(name, data) for name, data in files]
        with ThreadPoolExecutor(self.workers) as pool:
            return list(pool.map(lambda f: self._hashes(*f), files))

    def _region_index(self, view: ReleaseView) -> MultiIndexHashIndex | None:
        key = f"{view.release.dir}:{view.stamp}:{tiles_stamp(view.release)}"
        if key not in self._tiles:
            self._tiles[key] = open_tiles(view.release)
        return self._tiles[key]

    def _pdq_evidence(self, view: ReleaseView, hashes: list[list[Fingerprint]]) -> _EvidenceMap:
        """Every PDQ hit of the outputs' hashes in the release's two indexes, as evidence.

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

    def _clip_evidence(
        self,
        view: ReleaseView,
        files: Sequence[tuple[str, bytes]],
        readable: list[int],
        found: _EvidenceMap,
    ) -> bool:
        if self.clip is None or not readable:
            return False
        chosen = [files[qi] for qi in readable]
        neighbours = self.clip.image_neighbours(view, chosen, self.max_matches)
        if neighbours is None:
            return False
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
                pdq = [e.distance for e in found[key].values() if e.kind != "clip"]
                rank = (VERDICTS.index(verdict), min(pdq, default=256.0), key)
                per_output[key[0]].append(rank)
        kept: dict[_Key, Verdict] = {}
        for ranked in per_output.values():
            for _, _, key in sorted(ranked)[: self.max_matches]:
                kept[key] = judged[key]
        return kept

    def _matches(
        self, view: ReleaseView, names: list[str], found: _EvidenceMap
    ) -> list[tuple[int, Match]]:
        kept = self._ranked(found)
        by_shard: dict[int, list[_Key]] = defaultdict(list)
        for key in kept:
            by_shard[split_loc(key[1])[0]].append(key)
        out = []
        for sid, keys in by_shard.items():
            records = view.records(sid, [split_loc(loc)[1] for _, loc in keys])
            for key, record in zip(keys, records, strict=True):
                match = self._match(view, sid, record, names[key[0]], kept[key], found[key])
                out.append((key[0], match))
        return out

    def _match(
        self,
        view: ReleaseView,
        sid: int,
        record: dict[str, Any],
        output: str,
        verdict: Verdict,
        slot: dict[tuple[str, str, str], Evidence],
    ) -> Match:
        items = sorted(slot.values(), key=lambda e: (e.kind == "clip", e.distance))
        pdq = [e for e in items if e.kind != "clip"]
        extra: dict[str, Any] = {"output": output, "verdict": verdict}
        extra["watermark_flag"] = self.rules.flag_watermark(verdict, record.get("pwatermark"))
        extra["tiles_matched"] = self.rules.tiles_agreeing(pdq)
        frames = [e.distance for e in pdq if e.kind != "tile"]
        if frames:
            extra["distance"] = int(min(frames))
        cosines = [e.distance for e in items if e.kind == "clip"]
        if cosines:
            extra["cosine"] = round(max(cosines), 4)
        extra["evidence"] = [e.to_json() for e in items[:_MAX_EVIDENCE]]
        score = self.rules.score(items)
        method: MatchMethod = "same_image" if pdq else "similar"
        return row_match(view, sid, record, method=method, score=score, extra=extra)

    def check(
        self, files: Sequence[tuple[str, bytes]], *, dataset: str | None = None
    ) -> NearCopyReport:
        """Judge each ``(name, bytes)`` output against every release (or ``dataset``)."""
        prepared = self._hash_all(files)
        hashes = [h for h, _ in prepared]
        readable = [qi for qi, (_, error) in enumerate(prepared) if error is None]
        names = [name for name, _ in files]
        per_output: dict[int, list[Match]] = defaultdict(list)
        report = NearCopyReport([], self.rules, dataset)
        for view in self.views.select(dataset):
            found = self._pdq_evidence(view, hashes)
            methods = ["pdq"] if view.pdq is not None else []
            methods += ["regions"] if self._region_index(view) is not None else []
            if self._clip_evidence(view, files, readable, found):
                methods.append("clip")
            report.searched[f"{view.manifest.name}/{view.manifest.release}"] = methods
            for qi, match in self._matches(view, names, found):
                per_output[qi].append(match)
        for qi, (_, error) in enumerate(prepared):
            matches = sorted(
                per_output[qi], key=lambda m: (VERDICTS.index(m.extra["verdict"]), -m.score)
            )[: self.max_matches]
            verdict = strongest(m.extra["verdict"] for m in matches)
            report.results.append(OutputResult(names[qi], verdict, matches, error))
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
        total = NearCopyReport([], self.rules, dataset)
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
            on_progress(len(chunk))
        return total
