"""Image-keyed claims in the filter: which dataset URLs carry an image that a claim names.

The filter reads a dataset's own files, which hold URLs, not pixels; the pixels were read
when a catalog release of that dataset was fingerprinted. So the match is made once, up
front, over that release's fingerprints against the few claimed images, by every method
both sides have:

* **same file**: the row's SHA-256 equals a claim's (``fingerprints`` tables);
* **same image**: the row's PDQ hash within the registry's PDQ radius of a claim's
  (the release's PDQ index, which also holds border-trimmed hashes; exact range search);
* **ISCC**: the row's ISCC Image-Code body within the ISCC radius of a declared code
  (``fingerprint --iscc``);
* **keypoints**: where the release has keypoints (``fingerprint --keypoints``) and the
  claim kept its image's ORB points, at least ``min_inliers`` of them line up with the
  row's image through one similarity transform (``search.keypoints``): crops, overlays,
  an image set inside a larger one.

The result maps each matched row's URL (as the catalog holds it, i.e. as the dataset file
spells it) to its hits, each naming the claim, the method and the distance, so the
filter's log can say why a row went. Rows whose image was never fingerprinted cannot
match: they are not "checked and clean", and ``rows_compared`` says how many were.

Against a registry *server* (``remote_image_matches``) the claims are not here to compare
with, so the release's fingerprints go to the server's bulk check API as the items it can
decide: every distinct SHA-256 (``sha256:``, same file) and ISCC Image-Code body
(``iscc:``, within the server's ISCC radius). PDQ (the API matches one hash per item; the
release's per-row hashes are not sent) and keypoints (no API for them) are not compared,
and the note says so.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq
from numpy.typing import NDArray

from traindex.catalog.indexes.keypoints import open_keypoints
from traindex.catalog.indexes.pdq import fingerprinted_shards, open_pdq
from traindex.catalog.locations import loc_of, split_loc
from traindex.catalog.store import Catalog, Release
from traindex.config import Settings
from traindex.errors import InputError
from traindex.fingerprint.keypoints import Keypoints
from traindex.jobs.iscc import read_iscc
from traindex.registry.decisions import DecisionIndex, Matches
from traindex.registry.models import Decision
from traindex.search.keypoints import KeypointRules, search_keypoints

__all__ = ["ContentMatches", "ImageHit", "image_matches", "remote_image_matches"]

_STAGE = "fingerprints"


@dataclass(frozen=True, slots=True)
class ImageHit:
    """One claim matched one row's image: ``method`` is ``same_file``, ``same_image``
    (PDQ), ``iscc`` or ``keypoints``; ``distance`` in bits (0 for the same file) and the
    radius used, or for keypoints the agreeing points and the minimum asked for."""

    claim_id: str
    method: str
    distance: int
    radius: int

    def describe(self) -> str:
        if self.method == "same_file":
            return f"claim {self.claim_id}: same file (SHA-256)"
        if self.method == "keypoints":
            return (
                f"claim {self.claim_id}: keypoints ({self.distance} points agree >= {self.radius})"
            )
        kind = "PDQ" if self.method == "same_image" else "ISCC"
        return (
            f"claim {self.claim_id}: {self.method.replace('_', ' ')} "
            f"({kind} distance {self.distance} <= {self.radius})"
        )


Found = TypeVar("Found")
"""What one URL's image matched: hits (in-process index) or a server's decisions."""

LOCAL_METHODS = "SHA-256, PDQ, ISCC and keypoints (where the release has them)"
REMOTE_METHODS = "SHA-256 and ISCC, decided by the registry server (PDQ and keypoints not compared)"


@dataclass(frozen=True, slots=True)
class ContentMatches(Generic[Found]):
    """URL -> what matched for the rows that matched; how many fingerprinted rows were
    compared, and by which methods."""

    by_url: dict[str, tuple[Found, ...]]
    rows_compared: int
    dataset: str
    methods: str = LOCAL_METHODS

    def note(self) -> str:
        return (
            f"image claims compared with {self.rows_compared:,} fingerprinted rows of "
            f"{self.dataset!r} ({len(self.by_url):,} URLs matched) by {self.methods}; rows "
            "without a fingerprint there were not compared by image"
        )


Hits = dict[int, list[ImageHit]]  # catalog location -> hits


def image_matches(
    settings: Settings, dataset: str, index: DecisionIndex
) -> ContentMatches[ImageHit]:
    """Match the image claims against every fingerprinted row of ``dataset``'s releases
    (``NAME`` or ``NAME/RELEASE``); ``InputError`` if a release has no fingerprints."""
    releases = Catalog(settings).select(dataset)  # raises naming the known datasets
    by_url: dict[str, tuple[ImageHit, ...]] = {}
    compared = 0
    for release, _ in releases:
        hits: Hits = defaultdict(list)
        locs = _same_file(release, index, hits)
        _same_image(release, index, hits)
        _keypoints(release, index, hits)
        codes = read_iscc(release)
        if codes.num_rows:
            code_locs = np.fromiter(
                map(loc_of, codes.column("shard").to_pylist(), codes.column("row").to_pylist()),
                np.int64,
            )
            locs = np.union1d(locs, code_locs)
            _iscc(codes.column("iscc").to_pylist(), code_locs, index, hits)
        if not locs.size:
            raise _not_fingerprinted(release, dataset)
        compared += int(locs.size)
        for url, found in _urls(release, hits).items():
            by_url[url] = by_url.get(url, ()) + tuple(found)
    return ContentMatches(by_url, compared, dataset)


def _not_fingerprinted(release: Release, dataset: str) -> InputError:
    return InputError(
        f"release {release.dir.name} of {dataset!r} has no image fingerprints; run "
        "`traindex fingerprint` first (with --iscc for ISCC declarations)"
    )


def _sha256_rows(release: Release) -> Iterator[tuple[int, list[int], list[str]]]:
    """Per fingerprinted shard: its rows that have a SHA-256, and those digests."""
    for shard_id in fingerprinted_shards(release):
        table = pq.read_table(release.stage_table(_STAGE, shard_id), columns=["row", "sha256"])
        table = table.filter(pc.is_valid(table.column("sha256")))
        yield shard_id, table.column("row").to_pylist(), table.column("sha256").to_pylist()


def _same_file(release: Release, index: DecisionIndex, hits: Hits) -> NDArray[np.int64]:
    """SHA-256 matches into ``hits``; returns the locations of every fingerprinted row."""
    locs = []
    for shard_id, rows, digests in _sha256_rows(release):
        locs.append(np.fromiter((loc_of(shard_id, r) for r in rows), np.int64, len(rows)))
        if not index.has("sha256"):
            continue
        found = index.match_hashes("sha256", digests)
        for row, ids in zip(rows, found, strict=True):
            if ids:
                hits[loc_of(shard_id, row)].extend(ImageHit(i, "same_file", 0, 0) for i in ids)
    return np.unique(np.concatenate(locs)) if locs else np.zeros(0, np.int64)


def _same_image(release: Release, index: DecisionIndex, hits: Hits) -> None:
    """PDQ matches: one exact range search of the release's index per claimed hash."""
    claimed = index.claimed("pdq")
    pdq = open_pdq(release) if claimed else None
    if pdq is None:
        return
    codes = list(claimed)
    found = pdq.search([bytes.fromhex(c) for c in codes], index.pdq_radius)
    for number, code in enumerate(codes):
        ids, distances = found.for_query(number)
        for loc, distance in zip(ids.tolist(), distances.tolist(), strict=True):
            hits[loc].extend(
                ImageHit(i, "same_image", distance, index.pdq_radius) for i in claimed[code]
            )


def _keypoints(release: Release, index: DecisionIndex, hits: Hits) -> None:
    """Keypoint matches: the claimed images' points against the release's keypoint index,
    verified geometrically per row (one index call for all claims)."""
    claimed = index.claimed_keypoints()
    points = open_keypoints(release) if claimed else None
    if points is None:
        return
    ids = list(claimed)
    rules = KeypointRules()
    queries = [Keypoints.from_bytes(claimed[i]) for i in ids]
    for (number, loc), match in search_keypoints(points, queries, rules).items():
        hits[loc].append(ImageHit(ids[number], "keypoints", match.inliers, rules.min_inliers))


def _iscc(codes: list[str], locs: NDArray[np.int64], index: DecisionIndex, hits: Hits) -> None:
    """ISCC matches: every release code against each declared one (64-bit Hamming)."""
    claimed: Mapping[str, Matches] = index.claimed("iscc")
    if not claimed:
        return
    values = np.frombuffer(bytes.fromhex("".join(codes)), np.uint64)
    for code, ids in claimed.items():
        query = np.frombuffer(bytes.fromhex(code), np.uint64)[0]
        distances = np.bitwise_count(values ^ query)
        for at in np.flatnonzero(distances <= index.iscc_radius).tolist():
            hits[int(locs[at])].extend(
                ImageHit(i, "iscc", int(distances[at]), index.iscc_radius) for i in ids
            )


def remote_image_matches(
    settings: Settings, dataset: str, ask: Callable[[Sequence[str]], Sequence[Decision]]
) -> ContentMatches[Decision]:
    """Ask a registry server (``ask``: its bulk check) about every distinct SHA-256 and
    ISCC code of ``dataset``'s fingerprinted rows; per URL, the decisions that named a
    claim (each decision's ``item`` says the method: ``sha256:`` or ``iscc:``)."""
    releases = Catalog(settings).select(dataset)  # raises naming the known datasets
    found: dict[str, list[Decision]] = defaultdict(list)
    compared = 0
    for release, _ in releases:
        items: dict[int, list[str]] = defaultdict(list)  # catalog location -> items
        for shard_id, rows, digests in _sha256_rows(release):
            for row, digest in zip(rows, digests, strict=True):
                items[loc_of(shard_id, row)].append(f"sha256:{digest}")
        codes = read_iscc(release)
        columns = (codes.column(c).to_pylist() for c in ("shard", "row", "iscc"))
        for shard_id, row, body in zip(*columns, strict=True):
            items[loc_of(shard_id, row)].append(f"iscc:{body}")
        if not items:
            raise _not_fingerprinted(release, dataset)
        compared += len(items)
        distinct = list(dict.fromkeys(i for asked in items.values() for i in asked))
        answers = dict(zip(distinct, ask(distinct), strict=True))
        named: dict[int, list[Decision]] = {}
        for loc, asked in items.items():
            decisions = [d for d in map(answers.__getitem__, asked) if _names_claims(d)]
            if decisions:
                named[loc] = decisions
        for url, decisions in _urls(release, named).items():
            found[url].extend(decisions)
    by_url = {url: tuple(decisions) for url, decisions in found.items()}
    return ContentMatches(by_url, compared, dataset, REMOTE_METHODS)


def _names_claims(decision: Decision) -> bool:
    return bool(decision.claim_ids or decision.unverified_claim_ids)


def _urls(release: Release, hits: Mapping[int, list[Found]]) -> dict[str, list[Found]]:
    """The URLs of the matched rows, reading each shard's URL column once."""
    by_shard: dict[int, list[int]] = defaultdict(list)
    for loc in hits:
        by_shard[split_loc(loc)[0]].append(loc)
    found: dict[str, list[Found]] = defaultdict(list)
    for shard_id, locs in sorted(by_shard.items()):
        urls = pq.read_table(release.shard_path(shard_id), columns=["url"]).column("url")
        for loc in locs:
            url = urls[split_loc(loc)[1]].as_py()
            if url:
                found[url].extend(hits[loc])
    return found
