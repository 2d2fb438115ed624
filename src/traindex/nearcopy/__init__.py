"""Near-copy check for generated images: is this output a copy of a training image?

``tiles`` (region hashes), ``tile_index`` (the per-release region index), ``evidence``
(hits -> verdicts, the thresholds), ``check`` (the batch checker), ``report`` (HTML).
"""

from __future__ import annotations

__all__: list[str] = []
