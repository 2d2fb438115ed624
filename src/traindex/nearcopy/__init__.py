"""Near-copy check for generated images: is this output a copy of a training image?

``tiles`` (region hashes), ``evidence`` (hits -> verdicts, the thresholds), ``check`` (the
batch checker), ``report`` (HTML). The per-release region index is a release's index, in
:mod:`traindex.catalog.indexes.tiles`.
"""

from __future__ import annotations

__all__: list[str] = []
