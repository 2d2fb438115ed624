"""A release's indexes, built and opened in one room.

Fingerprints are computed in :mod:`traindex.fingerprint` and searched by the structures of
:mod:`traindex.index`; what ties them to a release lives here: where each index sits under
the release folder, which catalog shards it holds (``indexed.json``), how a row's location
maps to index ids, and how much of the release each signal covers (``coverage``).
``pdq`` (the catalog's PDQ and sha256 keys), ``keypoints``, ``faces`` and ``tiles`` (near-copy
regions) are one module per index.
"""

from __future__ import annotations

__all__: list[str] = []
