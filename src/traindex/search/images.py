"""Search by image file: is *this* photo in the dataset, even resized, re-encoded or edited?

For each query file: its SHA-256 (``same_file`` against the dataset's recorded digests and
the fingerprinted images' bytes) and PDQ hashes of the image and of its query variants
(flips, crops, small rotations, trimmed borders; ``fingerprint/variants.py``). All
variants of all files go to each release's PDQ index in one batch per lookup radius (the
1-degree grid of cropped rotations is looked up at ``Thresholds.rotation_grid_radius``,
everything else at the match radius); hits are merged per (query file, dataset row)
keeping the nearest variant. Low-quality hashes (flat images) never match on their own.
Releases fingerprinted with ``--keypoints`` are also searched by ORB points, verified
geometrically (``search/keypoints.py``): that finds heavy crops, large overlays and
pictures inside screenshots, which no PDQ variant reaches; such a match carries
``variant: "keypoints"`` and ``inliers`` (agreeing points) instead of a distance.
A portfolio is just many files in one call.
"""

from __future__ import annotations

import os
import stat
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from traindex.catalog.indexes.pdq import IMAGE_SHA256
from traindex.catalog.locations import split_loc
from traindex.catalog.store import Catalog
from traindex.core.match_evidence import ImageEvidence
from traindex.core.matches import Match, MatchMethod
from traindex.errors import InputError
from traindex.fingerprint.base import Fingerprint
from traindex.fingerprint.exact import file_digest
from traindex.fingerprint.hashing import decode_for_hashing
from traindex.fingerprint.images import DEFAULT_MAX_PIXELS
from traindex.fingerprint.keypoints import KeypointOptions, Keypoints, query_points
from traindex.fingerprint.pdq import PdqFingerprinter
from traindex.fingerprint.variants import DEFAULT_PLAN, VariantPlan, query_variants
from traindex.search.image_results import ImageSearchResult, QueryImage
from traindex.search.keypoints import KeypointMatch, KeypointRules, keypoint_matches
from traindex.search.thresholds import Thresholds
from traindex.search.views import ReleaseView, ViewCache, coverage_of, row_match

__all__ = [
    "ImageSearch",
    "hamming",
    "read_query_file",
    "searchable",
]


_Key = tuple[int, int]  # (query index, catalog loc)


def searchable(variants: list[Fingerprint]) -> list[Fingerprint]:
    """The variants a query may look up: none when the image itself is low quality (a flat
    image proves nothing, and its rotations only add the black corners the rotation drew),
    else every variant of quality >= ``MIN_PDQ_QUALITY``. ``variants[0]`` is the image."""
    if not variants or variants[0].low_quality:
        return []
    return [v for v in variants if not v.low_quality]


def hamming(
    variants: list[Fingerprint], digests: list[bytes], thresholds: Thresholds
) -> tuple[int, str] | None:
    """Nearest (distance, variant) of a query's variants to a few image digests, within
    each variant's radius: the brute-force comparison of a handful of candidates."""
    best: tuple[int, str] | None = None
    for fp in variants:
        for digest in digests:
            bits = np.unpackbits(
                np.frombuffer(
                    bytes(a ^ b for a, b in zip(fp.digest, digest, strict=True)), np.uint8
                )
            )
            distance = int(bits.sum())
            if distance <= thresholds.variant_radius(fp.variant) and (
                best is None or distance < best[0]
            ):
                best = (distance, fp.variant)
    return best


_FILE_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def read_query_file(path: Path, max_bytes: int = 64 * 1024 * 1024) -> bytes:
    """A query file's bytes within the limit, or an ``InputError`` naming it."""
    return _read_limited(path, max_bytes)


def _read_limited(path: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file of 1..``max_bytes`` bytes, or an ``InputError`` naming it.

    Only regular files are opened: reading a FIFO or a device could block or never end, so
    a portfolio folder holding one must not hang the run.
    """
    name = str(path)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            kind = next((k for test, k in _FILE_KINDS if test(info.st_mode)), "not a file")
            raise InputError(f"not a regular file: {kind}", path=name)
        if info.st_size > max_bytes:
            raise InputError(
                f"file is {info.st_size:,} bytes, over the {max_bytes:,}-byte limit", path=name
            )
        if info.st_size == 0:
            raise InputError("empty file (0 bytes)", path=name)
        with path.open("rb") as handle:
            return handle.read(max_bytes + 1)
    except FileNotFoundError as exc:
        reason = "broken symbolic link" if path.is_symlink() else "no such file"
        raise InputError(f"cannot read file: {reason}", path=name) from exc
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror or exc}", path=name) from exc


class ImageSearch:
    """Find dataset rows holding the same file or the same image as query files."""

    def __init__(
        self,
        catalog: Catalog,
        views: ViewCache | None = None,
        *,
        thresholds: Thresholds | None = None,
        plan: VariantPlan = DEFAULT_PLAN,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        max_file_bytes: int = 64 * 1024 * 1024,
        workers: int | None = None,
        keypoint_rules: KeypointRules | None = None,
        keypoint_options: KeypointOptions | None = None,
        keypoints: bool = True,
    ) -> None:
        self.max_file_bytes = max_file_bytes
        # index look-ups of a large batch run on this many threads (numpy releases the GIL)
        self.workers = workers if workers is not None else (os.cpu_count() or 1)
        self.views = views or ViewCache(catalog)
        self.thresholds = thresholds or Thresholds()
        self.plan = plan
        self.max_pixels = max_pixels
        self.hasher = PdqFingerprinter(max_pixels=max_pixels)
        self.keypoint_rules = keypoint_rules or KeypointRules()
        self.keypoint_options = keypoint_options or KeypointOptions()
        self.keypoints = keypoints

    def prepare(self, name: str, data: bytes) -> tuple[QueryImage, list[Fingerprint]]:
        """A query file's digests and the PDQ variants it may look up."""
        sha = file_digest(data)
        try:
            decoded = decode_for_hashing(data, name, self.max_pixels)
        except InputError as exc:
            return QueryImage(name, sha, error=str(exc)), []
        variants = query_variants(decoded.image, self.hasher, self.plan)
        usable = searchable(variants)
        first = variants[0]
        return QueryImage(name, sha, first.hex, first.quality, len(usable)), usable

    def search(
        self, files: Sequence[tuple[str, bytes]], *, dataset: str | None = None, limit: int = 100
    ) -> ImageSearchResult:
        """Search every file; ``limit`` caps the matches reported per file."""
        prepared = [self.prepare(name, data) for name, data in files]
        queries = [q for q, _ in prepared]
        hashes = [h for _, h in prepared]
        views = self.views.select(dataset)
        points: list[Keypoints | None] = [None] * len(files)
        if self.keypoints and any(view.keypoints is not None for view in views):
            points = [
                None
                if q.error
                else query_points(
                    data, self.keypoint_options, name=name, max_pixels=self.max_pixels
                )
                for q, (name, data) in zip(queries, files, strict=True)
            ]
        matches: list[Match] = []
        missed: list[str] = []
        for view in views:
            found, not_searched = self._search_view(view, queries, hashes, points)
            matches.extend(found)
            release = f"{view.manifest.name}/{view.manifest.release}"
            missed.extend(f"{release}:{shard}" for shard in not_searched)
        order = {q.name: i for i, q in enumerate(queries)}
        matches.sort(key=lambda m: (order[m.query], m.method != "same_file", -m.score))
        per_query: dict[str, int] = defaultdict(int)
        kept = []
        for m in matches:
            per_query[m.query] += 1
            if per_query[m.query] <= limit:
                kept.append(m)
        signals = ("sha256", "pdq", "keypoints") if self.keypoints else ("sha256", "pdq")
        coverage = coverage_of(views, signals).with_index_shards_lost(missed)
        result = ImageSearchResult(queries, kept, dataset, self.thresholds.radius, hashes, coverage)
        result.index_shards_lost = missed
        return result

    def search_paths(
        self,
        paths: Sequence[Path],
        *,
        dataset: str | None = None,
        limit: int = 100,
        batch: int = 256,
        batch_bytes: int = 256 * 1024 * 1024,
        on_progress: Callable[[int], None] = lambda n: None,
    ) -> ImageSearchResult:
        """Search files on disk in batches of at most ``batch`` files and ``batch_bytes``
        bytes, so memory stays bounded however large the portfolio.

        A file that cannot be read (missing, broken link, not a regular file, empty, too
        big) becomes a per-file error naming it; queries keep the order of ``paths``.
        """
        total = ImageSearchResult([], [], dataset, self.thresholds.radius)
        pending: list[QueryImage | tuple[str, bytes]] = []
        size = 0
        for count, path in enumerate(paths, 1):
            try:
                data = _read_limited(path, self.max_file_bytes)
            except InputError as exc:
                pending.append(QueryImage(str(path), "", error=str(exc)))
            else:
                pending.append((str(path), data))
                size += len(data)
            if len(pending) >= batch or size >= batch_bytes or count == len(paths):
                self._flush(pending, total, dataset, limit)
                on_progress(len(pending))
                pending, size = [], 0
        return total

    def _flush(
        self,
        pending: list[QueryImage | tuple[str, bytes]],
        total: ImageSearchResult,
        dataset: str | None,
        limit: int,
    ) -> None:
        """Search the readable files of one batch; add every entry to ``total`` in order."""
        readable = [entry for entry in pending if isinstance(entry, tuple)]
        part = self.search(readable, dataset=dataset, limit=limit) if readable else None
        answered = iter(part.queries if part is not None else [])
        total.queries.extend(e if isinstance(e, QueryImage) else next(answered) for e in pending)
        if part is not None:
            total.matches.extend(part.matches)
            lost = total.index_shards_lost
            lost.extend(s for s in part.index_shards_lost if s not in lost)
            # a shard lost in any batch leaves the whole answer partly searched
            assert part.coverage is not None  # search() always measures it
            total.coverage = part.coverage.with_index_shards_lost(lost)

    def _same_file(
        self, view: ReleaseView, queries: list[QueryImage]
    ) -> tuple[set[_Key], set[str]]:
        """Rows holding each query's bytes, and the catalog shards a fanned-out look-up
        could not reach."""
        found: set[_Key] = set()
        missed: set[str] = set()
        for qi, query in enumerate(queries):
            for field_name in ("sha256", IMAGE_SHA256):
                looked = view.keys.rows(field_name, [query.sha256], view.shard_ids)
                missed.update(looked.not_searched)
                for sid, rows in looked.found.items():
                    found.update((qi, (sid << 40) | int(r)) for r in rows)
        return found, missed

    def _same_image(
        self, view: ReleaseView, hashes: list[list[Fingerprint]]
    ) -> tuple[dict[_Key, tuple[int, str]], set[str]]:
        """Nearest (distance, variant) per (query, row): one batch per lookup radius, since
        the index's cost per hash falls ~10x below 22 bits (``search/thresholds.py``); and
        the index shards that could not be searched."""
        index = view.pdq
        if index is None:
            return {}, set()
        by_radius: dict[int, list[tuple[int, str, bytes]]] = defaultdict(list)
        for qi, fps in enumerate(hashes):
            for fp in fps:
                radius = self.thresholds.variant_radius(fp.variant)
                by_radius[radius].append((qi, fp.variant, fp.digest))
        best: dict[_Key, tuple[int, str]] = {}
        missed: set[str] = set()
        for radius, owners in by_radius.items():
            batch = np.frombuffer(b"".join(digest for _, _, digest in owners), np.uint8)
            hits = index.search(batch.reshape(-1, 32), radius, workers=self.workers)
            missed.update(hits.not_searched)
            for q, loc, dist in zip(
                hits.query.tolist(), hits.ids.tolist(), hits.distances.tolist(), strict=True
            ):
                qi, variant, _ = owners[q]
                if (qi, loc) not in best or dist < best[(qi, loc)][0]:
                    best[(qi, loc)] = (dist, variant)
        return best, missed

    def _search_view(
        self,
        view: ReleaseView,
        queries: list[QueryImage],
        hashes: list[list[Fingerprint]],
        points: list[Keypoints | None],
    ) -> tuple[list[Match], set[str]]:
        same_file, unlooked = self._same_file(view, queries)
        same_image, not_searched = self._same_image(view, hashes)
        index = view.keypoints if self.keypoints else None
        located, unreached = (
            ({}, ()) if index is None else keypoint_matches(index, points, self.keypoint_rules)
        )
        by_shard: dict[int, list[_Key]] = defaultdict(list)
        for key in same_file | set(same_image) | set(located):
            by_shard[split_loc(key[1])[0]].append(key)
        matches = []
        for sid, keys in by_shard.items():
            records = view.records(sid, [split_loc(loc)[1] for _, loc in keys])
            for (qi, loc), record in zip(keys, records, strict=True):
                matches.append(
                    self.match_row(
                        view,
                        sid,
                        record,
                        queries[qi],
                        (qi, loc) in same_file,
                        same_image.get((qi, loc)),
                        located.get((qi, loc)),
                    )
                )
        return matches, not_searched | set(unreached) | unlooked

    def match_row(
        self,
        view: ReleaseView,
        sid: int,
        record: dict[str, Any],
        query: QueryImage,
        exact: bool,
        near: tuple[int, str] | None,
        located: KeypointMatch | None,
    ) -> Match:
        """The match of one dataset row for one query, worded by the strongest method."""
        rules = self.keypoint_rules
        confidence: str | None
        if exact:
            confidence, score = "certain", 1.0
            explanation = "the file's bytes are identical (SHA-256)"
        elif near is not None:
            confidence, score = self.thresholds.confidence(near[0]), 1.0 - near[0] / 256
            explanation = self.thresholds.explain(near[0])
        else:
            assert located is not None  # a row is reported only when some method found it
            confidence, explanation = rules.confidence(located.inliers), rules.explain(located)
            score = rules.score(located.inliers)
        evidence = ImageEvidence(
            query.name, query.sha256, query.pdq, self.thresholds.radius, confidence, explanation,
            distance=near[0] if near is not None else None,
            # PDQ's variant wins over keypoints' where both matched
            variant=near[1] if near is not None else "keypoints" if located else None,
            inliers=located.inliers if located else None,
            min_inliers=rules.min_inliers if located else None,
            keypoint_scale=located.scale if located else None,
            keypoint_rotation=located.rotation if located else None,
        )  # fmt: skip
        method: MatchMethod = "same_file" if exact else "same_image"
        return row_match(view, sid, record, method=method, score=score, evidence=evidence)
