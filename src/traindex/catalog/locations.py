"""A row's location as one integer: ``shard id << 40 | row``.

Every index of a release (caption text, PDQ, keypoints, faces, near-copy tiles, CLIP) stores
this id for a row, so a hit from any of them leads back to the same catalog row. 40 bits of
row leave 23 bits of shard id in a signed 64-bit integer.
"""

from __future__ import annotations

__all__ = ["loc_of", "split_loc"]

_SHIFT = 40


def loc_of(shard_id: int, row: int) -> int:
    return (shard_id << _SHIFT) | row


def split_loc(loc: int) -> tuple[int, int]:
    return loc >> _SHIFT, loc & ((1 << _SHIFT) - 1)
