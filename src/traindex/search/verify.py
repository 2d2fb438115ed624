"""Narrow by metadata or CLIP, prove by pixels: ``search --images DIR --verify-candidates``.

For a release nobody fingerprinted, the rows a metadata search picks (``--domain``,
``--url-prefix``, ``--flickr-user``, ``--text``) or the nearest rows by the release's
published CLIP embeddings (``--clip-model``) are candidates, not matches: the row's image
may be anyone's (``search.candidates``). Their images are downloaded (politely, through
``download.client``; at most ``max_candidates`` in all; cached with their fingerprints, so
a second search neither fetches nor hashes them) and compared with each query file by
SHA-256, PDQ (the query's variants, at the same radii as an index search) and keypoints
(computed by default: a few images are cheap, and keypoints find heavy crops and
overlays; an ``ImageSearch`` with ``keypoints=False`` turns them off, which the benchmark
uses). A candidate that matches becomes a ``same_file``/``same_image`` match whose
``verified_by_download`` says when it was fetched, from where, the HTTP status, the
content SHA-256 and the number behind it (with a timestamp authority configured,
``tsa_url`` / ``search --tsa``, also an RFC 3161 token over that proof: ``core.proofs``).
A metadata candidate that does not match is simply not listed; a CLIP neighbour that does
not match stays ``similar`` (in the answer's ``similar`` list, never in ``matches``: it is
not evidence). The answer's coverage counts the candidates compared, so the rest of the
release stays "not searched".
"""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from traindex.catalog.store import Catalog
from traindex.config import Settings
from traindex.core.coverage import Coverage, ReleaseCoverage
from traindex.core.match_evidence import ImageEvidence, SimilarEvidence
from traindex.core.matches import Match
from traindex.core.proofs import download_proof, proof_content
from traindex.download.cache import CandidateCache, CandidatePrint, pipeline_key
from traindex.download.client import Download, ImageDownloader
from traindex.errors import InputError
from traindex.fingerprint.base import MIN_PDQ_QUALITY, Fingerprint
from traindex.fingerprint.keypoints import (
    KeypointOptions,
    Keypoints,
    dataset_points,
    query_points,
)
from traindex.fingerprint.locate import ImageRef
from traindex.index.keypoints import KeypointIndex
from traindex.jobs.stages import fingerprint_record
from traindex.search.candidates import Candidate, CandidateSource
from traindex.search.image_results import ImageSearchResult, QueryImage
from traindex.search.images import ImageSearch, hamming
from traindex.search.keypoints import KeypointMatch, search_keypoints
from traindex.search.similar import SIMILAR_EXPLANATION
from traindex.search.views import ReleaseView, row_match

__all__ = ["CandidateVerifier", "OnProgress"]


OnProgress = Callable[[str, int, int], None]
"""Called with (phase, done, total) after each candidate is downloaded or compared."""

_Printed = tuple[str, list[bytes], Keypoints | None]  # sha256, PDQ digests, keypoints


def _quiet(phase: str, done: int, total: int) -> None:
    return


class CandidateVerifier:
    """Download candidates and keep those the query files' pixels prove."""

    def __init__(
        self, settings: Settings, *, max_candidates: int = 200, search: ImageSearch | None = None
    ) -> None:
        self.settings = settings
        self.max_candidates = max_candidates
        self.search = search or ImageSearch(Catalog(settings))
        self.cache = CandidateCache(settings.home / "cache" / "candidates")

    def verify(
        self,
        files: list[tuple[str, bytes]],
        source: CandidateSource,
        *,
        dataset: str | None = None,
        on_progress: OnProgress = _quiet,
    ) -> ImageSearchResult:
        """Matches among ``source``'s candidates for every file in ``files``."""
        prepared = [self.search.prepare(name, data) for name, data in files]
        queries = [q for q, _ in prepared]
        readable = [f for q, f in zip(queries, files, strict=True) if q.error is None]
        views = self.search.views.select(dataset)
        picked = source.pick(views, readable, self.max_candidates)
        downloads = asyncio.run(self._fetch([c.record["url"] for c in picked], on_progress))
        options, keypoints = self.search.keypoint_options, self.search.keypoints
        points = [
            query_points(data, options, name=name) if keypoints and not q.error else None
            for q, (name, data) in zip(queries, files, strict=True)
        ]
        prints = []
        for done, got in enumerate(downloads, 1):
            prints.append(self._fingerprint(got))
            on_progress("comparing", done, len(downloads))
        matches, proven = self._compare(
            picked, downloads, prints, queries, [h for _, h in prepared], points
        )
        result = ImageSearchResult(queries, matches, dataset, self.search.thresholds.radius)
        result.coverage = self._coverage(views, picked, downloads)
        described = source.describe()
        names = [q.name for q in queries]
        model = str(described.get("model", ""))
        result.similar = _unproven(picked, downloads, proven, names, model)
        result.candidates = described | {
            "cap": self.max_candidates,
            "picked": len(picked),
            "downloaded": sum(1 for d in downloads if d.ok),
        }
        return result

    async def _fetch(self, urls: list[str], on_progress: OnProgress) -> list[Download]:
        done = 0

        def fetched() -> None:
            nonlocal done
            done += 1
            on_progress("downloading", done, len(urls))

        async with ImageDownloader(self.settings) as downloader:
            return await self.cache.fetch_all(downloader, urls, on_done=fetched)

    def _compare(
        self,
        picked: list[Candidate],
        downloads: list[Download],
        prints: list[_Printed | None],
        queries: list[QueryImage],
        hashes: list[list[Fingerprint]],
        points: list[Keypoints | None],
    ) -> tuple[list[Match], set[tuple[str, int]]]:
        """The proven matches, and the (query name, candidate index) pairs they prove."""
        located = self._keypoints(prints, points)
        matches = []
        proven: set[tuple[str, int]] = set()
        for ci, (candidate, got, printed) in enumerate(zip(picked, downloads, prints, strict=True)):
            if printed is None:
                continue
            for qi, query in enumerate(queries):
                if query.error:
                    continue
                exact = query.sha256 == printed[0]
                near = hamming(hashes[qi], printed[1], self.search.thresholds)
                found = located.get((qi, ci))
                if exact or near is not None or found is not None:
                    match = self.search.match_row(
                        candidate.view, candidate.shard_id, candidate.record, query, exact,
                        near, found,
                    )  # fmt: skip
                    matches.append(_proved(match, self._proof(got, printed[0])))
                    proven.add((query.name, ci))
        return matches, proven

    def _proof(self, got: Download, sha256: str) -> dict[str, Any]:
        """The fetch's proof, with an RFC 3161 token when ``tsa_url`` is set: taken once
        per fetch (kept in the cache with it), as soon as the candidate is proven."""
        at = got.fetched_at.isoformat(timespec="seconds") if got.fetched_at else "unknown time"
        fields = {
            "url": got.url, "final_url": got.final_url, "fetched_at": at,
            "http_status": got.http_status, "sha256": sha256,
        }  # fmt: skip
        tsa = self.settings.tsa_url
        if tsa is None:
            return download_proof(fields, None)
        content = proof_content(fields)
        kept = self.cache.stamp(got.url, tsa, content)
        proof = download_proof(fields, tsa, kept)
        if kept is None:
            self.cache.keep_stamp(got.url, tsa, content, proof["timestamp"])
        return proof

    def _fingerprint(self, got: Download) -> _Printed | None:
        """(sha256, PDQ digests, keypoints) of a fetched candidate, ``None`` if unusable;
        from the cache when these bytes were hashed before with the same pipeline."""
        if not got.ok:
            return None
        sha256 = hashlib.sha256(got.body).hexdigest()
        options = self.search.keypoint_options if self.search.keypoints else None
        pipeline = pipeline_key(self.search.max_pixels, options)
        printed = self.cache.fingerprints(sha256, pipeline)
        if printed is None:
            printed = self._hash(got, sha256, options)
            self.cache.keep_fingerprints(printed, pipeline)
        if not printed.pdq:
            return None
        return printed.sha256, list(printed.pdq), printed.keypoints

    def _hash(self, got: Download, sha256: str, options: KeypointOptions | None) -> CandidatePrint:
        ref = ImageRef(got.url, got.body, got.url)
        record = fingerprint_record(ref, 0, self.search.hasher, self.search.max_pixels)
        if record.get("error") or int(str(record["pdq_quality"])) < MIN_PDQ_QUALITY:
            return CandidatePrint(sha256, (), None)  # undecodable or flat: proves nothing
        digests = tuple(d for d in (record["pdq"], record.get("pdq_trim")) if isinstance(d, bytes))
        kp = None
        if options is not None:
            try:
                kp = dataset_points(got.body, options, name=got.url)
            except InputError:
                kp = None  # too few points: PDQ and SHA-256 still compare it
        return CandidatePrint(sha256, digests, kp)

    def _keypoints(
        self, prints: list[_Printed | None], points: list[Keypoints | None]
    ) -> dict[tuple[int, int], KeypointMatch]:
        """Keypoint matches (query, candidate) through a throwaway index of the candidates."""
        owned = [(ci, p[2]) for ci, p in enumerate(prints) if p is not None and p[2] is not None]
        owned = [(ci, kp) for ci, kp in owned if kp is not None and len(kp)]
        if not owned:
            return {}
        with tempfile.TemporaryDirectory(prefix="traindex-candidates-") as folder:
            index = KeypointIndex(folder)
            index.add(
                np.concatenate([kp.descriptors for _, kp in owned]),
                np.concatenate([np.full(len(kp), ci, np.int64) for ci, kp in owned]),
                np.concatenate([kp.points for _, kp in owned]),
            )
            return search_keypoints(index, points, self.search.keypoint_rules)

    def _coverage(
        self, views: list[ReleaseView], picked: list[Candidate], downloads: list[Download]
    ) -> Coverage:
        """Per release: the candidates compared of all its rows, and why others failed."""
        signals = ("sha256", "pdq", "keypoints") if self.search.keypoints else ("sha256", "pdq")
        releases = []
        for view in views:
            mine = [d for c, d in zip(picked, downloads, strict=True) if c.view is view]
            failures = Counter(d.status for d in mine if not d.ok)
            compared = sum(1 for d in mine if d.ok)
            covered = dict.fromkeys(signals, compared)
            releases.append(
                ReleaseCoverage(
                    view.manifest.name, view.manifest.release, view.manifest.rows, covered,
                    dict(failures), len(view.shard_ids),
                )
            )  # fmt: skip
        return Coverage(signals, tuple(releases))


def _unproven(
    picked: list[Candidate],
    downloads: list[Download],
    proven: set[tuple[str, int]],
    names: list[str],
    model: str,
) -> list[Match]:
    """CLIP neighbours whose pixels did not prove them, as ``similar`` (never evidence),
    each saying whether it was compared or why it could not be."""
    out = []
    for ci, (candidate, got) in enumerate(zip(picked, downloads, strict=True)):
        if got.ok:
            why = "its image was downloaded and does not match your file (SHA-256, PDQ, keypoints)"
        else:
            why = f"its image could not be downloaded ({got.status}), so it was not compared"
        for name, cosine in candidate.neighbours:
            if (name, ci) in proven:
                continue
            evidence = SimilarEvidence(
                name, round(cosine, 4), model, f"{SIMILAR_EXPLANATION}; {why}", got.status
            )
            out.append(
                row_match(
                    candidate.view, candidate.shard_id, candidate.record, method="similar",
                    score=cosine, evidence=evidence,
                )
            )  # fmt: skip
    order = {name: i for i, name in enumerate(names)}
    return sorted(out, key=lambda m: (order[m.query], -m.score))


def _proved(match: Match, proof: dict[str, Any]) -> Match:
    """The match with its download proof in its evidence and in its explanation."""
    proven = match.evidence_as(ImageEvidence)  # a candidate proven by its pixels
    said = (
        f"verified by download at {proof['fetched_at']} from {proof['url']} "
        f"(HTTP {proof['http_status']}, content SHA-256 {proof['sha256']}; "
        f"{proof['time_basis']}): {proven.explanation}"
    )
    evidence = replace(proven, verified_by_download=proof, explanation=said)
    return replace(match, evidence=evidence)
