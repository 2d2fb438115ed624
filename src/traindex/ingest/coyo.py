"""COYO-700M metadata parquet.

Format ``coyo``: ``id, url, text, width, height, image_phash, text_length, word_count,
num_tokens_bert, num_tokens_gpt, num_faces, clip_similarity_vitb32, clip_similarity_vitl14,
nsfw_score_opennsfw2, nsfw_score_gantman, watermark_score, aesthetic_score_laion_v2``.
The alias table maps ``id`` to ``key``, ``image_phash`` to ``phash`` (COYO's 64-bit pHash,
the only near-duplicate key any of these datasets ships), ``nsfw_score_opennsfw2`` to
``punsafe`` and ``watermark_score`` to ``pwatermark``; the rest is kept in ``extra``.
The COYO preview CSV is read by the ``table`` format with the same aliases.
"""

from __future__ import annotations

from pathlib import Path

from traindex.ingest._parquet import ParquetReader, parquet_names

__all__ = ["CoyoReader"]

_MARKERS = frozenset({"image_phash", "nsfw_score_opennsfw2", "watermark_score"})


class CoyoReader(ParquetReader):
    format = "coyo"
    description = "COYO-700M parquet (id, url, text, width, height, image_phash, ...)"

    @classmethod
    def sniff(cls, root: Path) -> float:
        names = {n.lower() for n in parquet_names(root) or ()}
        if "url" not in names or "image_phash" not in names:
            return 0.0
        return 0.9 if len(_MARKERS & names) >= 2 else 0.6
