"""One immutable shard of the PDQ index: hashes, ids and a multi-index-hashing bucket table.

Why multi-index hashing, and why it is exact: split each 256-bit hash into ``m`` chunks. If
two hashes differ in at most ``r`` bits, at least one chunk differs in at most
``floor(r / m)`` bits (pigeonhole). Probing, in every chunk, all values within that many
bits of the query's chunk therefore reaches *every* stored hash within ``r``; each candidate
is then verified with a vectorised popcount. Recall is 1.0 by construction (the brute-force
oracle checks it), for any radius.

How ``m`` is chosen (:func:`choose_widths`): more, shorter chunks mean few probes but big
buckets; fewer, longer chunks mean small buckets but many probes and a larger table. The
shard picks the ``m`` (8-16) minimising ``probes + 2 * expected candidates`` (each is about
one cache miss; a candidate costs a postings read and a hash read) for its size at the
design radius 31, subject to the bucket table using at most 48 bytes per hash (or 8 MiB).
With 1M hashes that is 16 x 16 bits (272 probes, ~4k candidates); 13 chunks at 2M, 12 at 4M;
from 10M on, 11 chunks of 23-24 bits (probe radius 2: ~3,100 probes and ~3k candidates at 10M
instead of 272 and ~41k; the table is a fixed 470 MB per shard, 9.4 bytes per hash in a full
50M-hash shard).

Layout (CSR): chunk ``c`` owns ``2**w_c + 1`` entries of ``offsets`` (uint32, local to the
chunk) starting at ``table_base[c]``; ``postings[c * n + offsets[...]]`` lists the rows whose
chunk has that value. A lookup is two adjacent array reads. Real PDQ data is clumpier than
random (duplicated photos); a query whose probes hold more than ``scan_fraction`` of the
shard is answered by a sequential scan, so skew can cost speed but never exceeds one pass.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import cache

import numpy as np
from numpy.typing import NDArray

from traindex.fingerprint.base import PDQ_MATCH_RADIUS
from traindex.index.brute import scan

__all__ = ["Shard", "Triples", "choose_widths", "chunk_values", "flip_masks", "stable_order"]

BITS = 256
TABLE_BYTES_PER_HASH = 48
MIN_TABLE_BYTES = 1 << 23
_MAX_CANDIDATES = 1 << 18
"""Candidates verified per vectorised step: temporaries (~15 MB) stay in cache."""
_BLOCK_ROWS = 1 << 16

Triples = tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]


def _split(chunks: int) -> tuple[int, ...]:
    base, extra = divmod(BITS, chunks)
    return tuple(base + 1 if c < extra else base for c in range(chunks))


def _ball(width: int, radius: int) -> int:
    return sum(math.comb(width, k) for k in range(min(radius, width) + 1))


def choose_widths(count: int, radius: int = PDQ_MATCH_RADIUS) -> tuple[int, ...]:
    """Chunk widths (bits, summing to 256) with the lowest modelled query cost for ``count``."""
    budget = max(MIN_TABLE_BYTES, TABLE_BYTES_PER_HASH * count)
    best: tuple[float, tuple[int, ...]] | None = None
    for chunks in range(8, 17):
        widths = _split(chunks)
        if sum((1 << w) + 1 for w in widths) * 4 > budget:
            continue
        probe = radius // chunks
        probes = sum(_ball(w, probe) for w in widths)
        candidates = sum(_ball(w, probe) * count / (1 << w) for w in widths)
        cost = probes + 2.0 * candidates
        if best is None or cost < best[0]:
            best = (cost, widths)
    return best[1] if best is not None else _split(16)


@cache
def flip_masks(width: int, max_bits: int) -> NDArray[np.uint32]:
    """All ``width``-bit masks with at most ``max_bits`` bits set (one chunk's probe pattern)."""
    masks = [0]
    for weight in range(1, min(max_bits, width) + 1):
        masks.extend(
            sum(1 << b for b in bits) for bits in itertools.combinations(range(width), weight)
        )
    array = np.array(masks, dtype=np.uint32)
    array.flags.writeable = False
    return array


@cache
def _layout(widths: tuple[int, ...]) -> dict[str, NDArray[np.uint64] | NDArray[np.int64]]:
    """Per chunk: the 64-bit words it reads, shifts, mask and bucket-table base (cached)."""
    ends = np.cumsum(widths)
    starts = ends - np.array(widths)
    low_word = (ends - 1) // 64
    end_in_low = ends - 64 * low_word
    straddles = starts // 64 != low_word
    sizes = (1 << np.array(widths, dtype=np.int64)) + 1
    return {
        "high_word": (starts // 64).astype(np.int64),
        "low_word": low_word.astype(np.int64),
        "right": (64 - end_in_low).astype(np.uint64),
        "left": np.where(straddles, end_in_low, 0).astype(np.uint64),
        "straddles": straddles.astype(np.uint64),
        "mask": ((1 << np.array(widths, dtype=np.uint64)) - np.uint64(1)).astype(np.uint64),
        "table_base": np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64),
    }


def chunk_values(hashes: NDArray[np.uint8], widths: tuple[int, ...]) -> NDArray[np.uint32]:
    """``(n, 32)`` hashes to ``(n, m)`` chunk values; bit 0 is the first byte's MSB.

    Vectorised over chunks: a chunk is the tail of one 64-bit word, plus (when it straddles
    two words) the head of the next, shifted into place.
    """
    layout = _layout(widths)
    words = np.ascontiguousarray(hashes).view(">u8").astype(np.uint64)
    value = words[:, layout["low_word"]] >> layout["right"]
    value |= (words[:, layout["high_word"]] << layout["left"]) * layout["straddles"]
    return (value & layout["mask"]).astype(np.uint32)


def stable_order(values: NDArray[np.uint32]) -> NDArray[np.int64]:
    """``np.argsort(values, kind="stable")`` as two 16-bit radix passes (numpy radix-sorts
    16-bit keys; 32-bit keys would fall back to a much slower merge sort)."""
    order = np.argsort((values & 0xFFFF).astype(np.uint16), kind="stable")
    if values.size and int(values.max()) > 0xFFFF:
        high = (values[order] >> 16).astype(np.uint16)
        order = order[np.argsort(high, kind="stable")]
    return order


def _expand_ranges(
    starts: NDArray[np.int64], lengths: NDArray[np.int64], owners: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Concatenate ``range(start, start + length)`` for all ranges, and each position's owner."""
    ends = np.cumsum(lengths)
    shift = np.repeat(starts - (ends - lengths), lengths)
    positions = np.arange(int(ends[-1]) if ends.size else 0, dtype=np.int64) + shift
    return positions, np.repeat(owners, lengths)


@dataclass(frozen=True, slots=True)
class Shard:
    """Arrays of one shard; any of them may be read-only memory maps.

    ``hashes`` ``(n, 32)`` uint8, ``ids`` ``(n,)`` int64, ``widths`` ``(m,)`` int64 chunk
    widths, ``offsets`` uint32 (per chunk ``2**w + 1`` entries, local to the chunk) and
    ``postings`` ``(m * n,)`` uint32, so a shard holds fewer than 2**32 hashes.
    """

    hashes: NDArray[np.uint8]
    ids: NDArray[np.int64]
    widths: NDArray[np.int64]
    offsets: NDArray[np.uint32]
    postings: NDArray[np.uint32]

    @classmethod
    def build(
        cls,
        hashes: NDArray[np.uint8],
        ids: NDArray[np.int64],
        widths: tuple[int, ...] | None = None,
    ) -> Shard:
        """Index ``hashes``: per chunk, a stable sort of the chunk values and their counts.

        ``widths`` overrides :func:`choose_widths` (each 1-32 bits, summing to 256).
        """
        count = hashes.shape[0]
        if count >= 1 << 32:
            raise ValueError("a shard holds fewer than 2**32 hashes; split the input")
        widths = choose_widths(count) if widths is None else widths
        if sum(widths) != BITS or not all(1 <= w <= 32 for w in widths):
            raise ValueError(f"chunk widths must be 1-32 bits and sum to {BITS}, got {widths}")
        values = np.concatenate(
            [
                chunk_values(hashes[i : i + _BLOCK_ROWS], widths)
                for i in range(0, count, _BLOCK_ROWS)
            ]
            or [np.empty((0, len(widths)), np.uint32)]
        )
        offsets = np.zeros(sum((1 << w) + 1 for w in widths), dtype=np.uint32)
        postings = np.empty(len(widths) * count, dtype=np.uint32)
        base = 0
        for c, width in enumerate(widths):
            column = np.ascontiguousarray(values[:, c])
            postings[c * count : (c + 1) * count] = stable_order(column)
            counts = np.bincount(column, minlength=1 << width)
            offsets[base + 1 : base + (1 << width) + 1] = np.cumsum(counts)
            base += (1 << width) + 1
        return cls(
            np.ascontiguousarray(hashes), ids, np.array(widths, dtype=np.int64), offsets, postings
        )

    def __len__(self) -> int:
        return int(self.hashes.shape[0])

    def _probe(
        self, batch: NDArray[np.uint8], radius: int
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Global postings start and length of every probed bucket: ``(Q, probes)``.

        Chunks of equal width share one probe pattern, so this is one vectorised step per
        distinct width (at most two), whatever the number of chunks.
        """
        widths = tuple(int(w) for w in self.widths)
        table_base = _layout(widths)["table_base"]
        values = chunk_values(batch, widths)
        probe_bits = radius // len(widths)
        starts, lengths = [], []
        for width in sorted(set(widths)):
            chunks = np.array([c for c, w in enumerate(widths) if w == width])
            keys = values[:, chunks, None] ^ flip_masks(width, probe_bits)[None, None, :]
            buckets = keys.astype(np.int64) + table_base[chunks][None, :, None]
            first = self.offsets[buckets].astype(np.int64)
            lengths.append((self.offsets[buckets + 1] - first).reshape(batch.shape[0], -1))
            starts.append((first + (chunks * len(self))[None, :, None]).reshape(batch.shape[0], -1))
        return np.concatenate(starts, axis=1), np.concatenate(lengths, axis=1)

    def _verify(
        self,
        batch: NDArray[np.uint8],
        starts: NDArray[np.int64],
        lengths: NDArray[np.int64],
        queries: NDArray[np.int64],
        radius: int,
    ) -> Triples:
        """Popcount-check every candidate of ``queries``; keep those within ``radius``."""
        owners = np.repeat(queries, starts.shape[1])
        flat_len = lengths[queries].ravel()
        nonzero = flat_len > 0
        positions, cand_query = _expand_ranges(
            starts[queries].ravel()[nonzero], flat_len[nonzero], owners[nonzero]
        )
        rows = np.take(self.postings, positions).astype(np.int64)
        words = np.take(self.hashes.view(np.uint64), rows, axis=0)
        words ^= np.take(batch.view(np.uint64), cand_query, axis=0)
        counts = np.bitwise_count(words)
        dist = counts[:, 0].astype(np.int64) + counts[:, 1] + counts[:, 2] + counts[:, 3]
        hit = dist <= radius
        return cand_query[hit], rows[hit], dist[hit]

    def _scan(self, batch: NDArray[np.uint8], query: int, radius: int) -> Triples:
        rows, dist = scan(self.hashes, batch[query], radius)
        return np.full(rows.size, query, dtype=np.int64), rows, dist

    def search(self, batch: NDArray[np.uint8], radius: int, scan_fraction: float) -> Triples:
        """(query index, id, distance) for every stored hash within ``radius``; may repeat."""
        if len(self) == 0 or batch.shape[0] == 0:
            empty = np.empty(0, np.int64)
            return empty, empty, empty
        starts, lengths = self._probe(batch, radius)
        totals = lengths.sum(axis=1)
        heavy = totals > scan_fraction * len(self)
        parts = [self._scan(batch, int(q), radius) for q in np.flatnonzero(heavy)]
        light = np.flatnonzero(~heavy)
        group = np.cumsum(totals[light]) // _MAX_CANDIDATES
        for g in np.unique(group):
            parts.append(self._verify(batch, starts, lengths, light[group == g], radius))
        query = np.concatenate([p[0] for p in parts])
        rows = np.concatenate([p[1] for p in parts])
        dist = np.concatenate([p[2] for p in parts])
        return query, self.ids[rows], dist
