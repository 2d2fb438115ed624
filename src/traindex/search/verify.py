"""Narrow by metadata, prove by pixels: ``search --images DIR --verify-candidates``.

For a release nobody fingerprinted, the rows a metadata search picks (``--domain``,
``--url-prefix``, ``--flickr-user``, ``--text``) are candidates, not matches: the row's
image may be anyone's. Their images are downloaded (politely, through ``download.client``;
at most ``max_candidates`` in all; cached, so a second search fetches nothing) and compared
with each query file by SHA-256, PDQ (the query's variants, at the same radii as an index
search) and keypoints (always computed here: a few images are cheap, and keypoints find
heavy crops and overlays). A candidate that matches becomes a ``same_file``/``same_image``
match whose ``verified_by_download`` says when it was fetched, from where, the HTTP
status, the content SHA-256 and the number behind it — with a timestamp authority
configured (``tsa_url``, ``search --tsa``), also an RFC 3161 token over that proof
(``core.proofs``); one that does not match is simply not listed. The answer's coverage
counts the candidates compared, so the rest of the release stays "not searched".
"""

from __future__ import annotations

import asyncio
import tempfile
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from traindex.catalog.store import Catalog
from traindex.config import Settings
from traindex.core.coverage import Coverage, ReleaseCoverage
from traindex.core.matches import Match
from traindex.core.proofs import download_proof, proof_content
from traindex.download.cache import CandidateCache
from traindex.download.client import Download, ImageDownloader
from traindex.errors import InputError
from traindex.fingerprint.base import MIN_PDQ_QUALITY, Fingerprint
from traindex.fingerprint.keypoints import Keypoints, dataset_points, query_points
from traindex.fingerprint.locate import ImageRef
from traindex.index.keypoints import KeypointIndex
from traindex.jobs.stages import fingerprint_record
from traindex.search.images import ImageSearch, ImageSearchResult, QueryImage, hamming
from traindex.search.keypoints import KeypointMatch, search_keypoints
from traindex.search.queries import Query
from traindex.search.service import SearchService
from traindex.search.views import ReleaseView

__all__ = ["CandidateVerifier"]

SIGNALS = ("sha256", "pdq", "keypoints")


@dataclass(frozen=True, slots=True)
class _Candidate:
    view: ReleaseView
    shard_id: int
    position: int
    record: dict[str, Any]


class CandidateVerifier:
    """Download metadata candidates and keep those the query files' pixels prove."""

    def __init__(self, settings: Settings, *, max_candidates: int = 200) -> None:
        self.settings = settings
        self.max_candidates = max_candidates
        self.search = ImageSearch(Catalog(settings))
        self.cache = CandidateCache(settings.home / "cache" / "candidates")

    def candidates(self, query: Query, dataset: str | None) -> list[_Candidate]:
        """The first ``max_candidates`` rows matching ``query``, in dataset order."""
        service = SearchService(self.search.views.catalog, self.search.views)
        found: list[_Candidate] = []
        for view in self.search.views.select(dataset):
            for sid, rows in sorted(service.positions(view, query).items()):
                take = rows[: self.max_candidates - len(found)]
                for row, record in zip(take, view.records(sid, take), strict=True):
                    found.append(_Candidate(view, sid, row, record))
        return found[: self.max_candidates]

    def verify(
        self, files: list[tuple[str, bytes]], query: Query, *, dataset: str | None = None
    ) -> ImageSearchResult:
        """Matches among the candidates of ``query`` for every file in ``files``."""
        picked = self.candidates(query, dataset)
        downloads = asyncio.run(self._fetch([c.record["url"] for c in picked]))
        prepared = [self.search.prepare(name, data) for name, data in files]
        queries = [q for q, _ in prepared]
        options = self.search.keypoint_options
        points = [
            None if q.error else query_points(data, options, name=name)
            for q, (name, data) in zip(queries, files, strict=True)
        ]
        matches = self._compare(picked, downloads, queries, [h for _, h in prepared], points)
        result = ImageSearchResult(queries, matches, dataset, self.search.thresholds.radius)
        result.coverage = self._coverage(picked, downloads, dataset)
        return result

    async def _fetch(self, urls: list[str]) -> list[Download]:
        async with ImageDownloader(self.settings) as downloader:
            return await self.cache.fetch_all(downloader, urls)

    def _compare(
        self,
        picked: list[_Candidate],
        downloads: list[Download],
        queries: list[QueryImage],
        hashes: list[list[Fingerprint]],
        points: list[Keypoints | None],
    ) -> list[Match]:
        prints = [self._fingerprint(got) for got in downloads]
        located = self._keypoints(prints, points)
        matches = []
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
        return matches

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

    def _fingerprint(self, got: Download) -> tuple[str, list[bytes], Keypoints | None] | None:
        """(sha256, PDQ digests, keypoints) of a fetched candidate, ``None`` if unusable."""
        if not got.ok:
            return None
        ref = ImageRef(got.url, got.body, got.url)
        record = fingerprint_record(ref, 0, self.search.hasher, self.search.max_pixels)
        if record.get("error") or int(str(record["pdq_quality"])) < MIN_PDQ_QUALITY:
            return None  # undecodable or flat: proves nothing (as on the dataset side)
        digests = [d for d in (record["pdq"], record.get("pdq_trim")) if isinstance(d, bytes)]
        try:
            kp = dataset_points(got.body, self.search.keypoint_options, name=got.url)
        except InputError:
            kp = None
        return str(record["sha256"]), digests, kp

    def _keypoints(
        self,
        prints: list[tuple[str, list[bytes], Keypoints | None] | None],
        points: list[Keypoints | None],
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
        self, picked: list[_Candidate], downloads: list[Download], dataset: str | None
    ) -> Coverage:
        """Per release: the candidates compared of all its rows, and why others failed."""
        releases = []
        for view in self.search.views.select(dataset):
            mine = [d for c, d in zip(picked, downloads, strict=True) if c.view is view]
            failures = Counter(d.status for d in mine if not d.ok)
            compared = sum(1 for d in mine if d.ok)
            covered = dict.fromkeys(SIGNALS, compared)
            releases.append(
                ReleaseCoverage(
                    view.manifest.name, view.manifest.release, view.manifest.rows, covered,
                    dict(failures), len(view.shard_ids),
                )
            )  # fmt: skip
        return Coverage(SIGNALS, tuple(releases))


def _proved(match: Match, proof: dict[str, Any]) -> Match:
    """The match with its download proof in ``extra`` and in its explanation."""
    said = (
        f"verified by download at {proof['fetched_at']} from {proof['url']} "
        f"(HTTP {proof['http_status']}, content SHA-256 {proof['sha256']}; "
        f"{proof['time_basis']}): {match.extra.get('explanation', '')}"
    )
    return replace(match, extra={**match.extra, "verified_by_download": proof, "explanation": said})
