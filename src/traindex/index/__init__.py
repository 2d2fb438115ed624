"""Indexes that find every stored fingerprint near a query.

``brute`` is the exact scan every fast index is tested against; ``binary`` is the sharded,
memory-mapped multi-index-hashing index used in production.
"""

from __future__ import annotations

__all__: list[str] = []
