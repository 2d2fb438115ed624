"""Caption full-text index (Tantivy, BM25) for one release.

Captions are tokenised with a folding analyser (lower case, ASCII folding, very long
tokens dropped), and the query goes through the same analyser, so ``Kneschke`` finds
``KNESCHKE`` and ``Müller`` finds ``Muller``. Words of a query are all required (a caption
must contain every one, ranked by BM25); ``OR`` between words accepts any of them. Why: a
name is several words, and "any word" turned ``Robert Kneschke`` into every Robert.
Each document stores only ``loc``
(shard id << 40 | row) as a fast field; everything else is read from the Parquet shard.
Documents carry their shard id so a resumed ingest can delete a half-indexed shard.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import tantivy

from traindex.catalog.locations import loc_of, split_loc
from traindex.errors import InputError

__all__ = ["TextHit", "TextHits", "TextIndex", "asks_any", "fold", "query_terms"]

_FIELD = "caption"
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_OPERATORS = frozenset({"AND", "OR", "NOT"})


def fold(text: str) -> list[str]:
    """Tokens of ``text`` lower-cased with diacritics removed (used to report matched terms)."""
    stripped = "".join(
        c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
    )
    return [t.lower() for t in _TOKEN.findall(stripped)]


def query_terms(query: str) -> tuple[str, ...]:
    """The folded words of ``query`` a caption contains when it matches every term.

    Operators (``AND``, ``OR``, ``NOT``), excluded words (``-word``) and quotes are left
    out; ``+word`` counts as ``word``. Evidence built from a text search lists only rows
    whose caption holds all of them (``Match.matched_terms`` covers this tuple).
    """
    words: list[str] = []
    for part in query.replace('"', " ").split():
        if part in _OPERATORS or part.startswith("-"):
            continue
        words.extend(fold(part.lstrip("+")))
    return tuple(dict.fromkeys(words))


def asks_any(query: str) -> bool:
    """Whether ``query`` asks for any of its words (``OR``) rather than all of them."""
    return "OR" in query.replace('"', " ").split()


@dataclass(frozen=True, slots=True)
class TextHit:
    shard_id: int
    row: int
    score: float


@dataclass(frozen=True, slots=True)
class TextHits:
    """How many captions match, one page of them, and the shards not looked at: named
    (``catalog/<id>``) when a search fanned out over a cluster could not reach them."""

    total: int
    hits: list[TextHit]
    not_searched: tuple[str, ...] = ()


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field(_FIELD, tokenizer_name="folded", index_option="position")
    builder.add_integer_field("loc", fast=True)
    builder.add_integer_field("shard", indexed=True)
    return builder.build()


class TextIndex:
    """Open (or create) the caption index in ``path``."""

    def __init__(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.index = tantivy.Index(_schema(), path=str(path))
        analyzer = (
            tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
            .filter(tantivy.Filter.remove_long(80))
            .filter(tantivy.Filter.lowercase())
            .filter(tantivy.Filter.ascii_fold())
            .build()
        )
        self.index.register_tokenizer("folded", analyzer)

    def writer(self, heap_bytes: int) -> tantivy.IndexWriter:
        return self.index.writer(heap_size=heap_bytes, num_threads=1)

    @staticmethod
    def add(
        writer: tantivy.IndexWriter, shard_id: int, first_row: int, captions: Sequence[str | None]
    ) -> None:
        for i, caption in enumerate(captions):
            if caption:
                writer.add_document(
                    tantivy.Document(
                        caption=caption, loc=loc_of(shard_id, first_row + i), shard=shard_id
                    )
                )

    @staticmethod
    def delete_shard(writer: tantivy.IndexWriter, shard_id: int) -> None:
        writer.delete_documents_by_term("shard", shard_id)

    def search(
        self, query: str, limit: int, offset: int = 0, *, shards: Collection[int] | None = None
    ) -> TextHits:
        """Total hit count and one page of hits, best BM25 score first; only captions of
        ``shards`` when given (a part of the release, as a cluster node holds it).

        ``query`` uses Tantivy's syntax: words (all must match), ``a OR b`` (either),
        ``"exact phrase"``, ``-excluded``. A query that does not parse is an ``InputError``.
        Scores are the release's BM25 scores with or without ``shards`` (the filter adds
        nothing to them), so the answers of several parts merge into the whole's ranking.
        """
        self.index.reload()
        try:
            parsed = self.index.parse_query(query, [_FIELD], conjunction_by_default=True)
        except ValueError as exc:
            raise InputError(f"cannot parse text query {query!r}: {exc}") from exc
        if shards is not None:
            within = tantivy.Query.term_set_query(self.index.schema, "shard", sorted(shards))
            parsed = tantivy.Query.boolean_query(
                [
                    (tantivy.Occur.Must, parsed),
                    (tantivy.Occur.Must, tantivy.Query.const_score_query(within, 0.0)),
                ]
            )
        searcher = self.index.searcher()
        result = searcher.search(parsed, limit=limit, offset=offset, count=True)
        addresses = [addr for _, addr in result.hits]
        locs = searcher.fast_field_values("loc", addresses) if addresses else []
        hits = [
            TextHit(*split_loc(int(loc)), score=float(score))
            for (score, _), loc in zip(result.hits, locs, strict=True)
            if loc is not None
        ]
        # tantivy's stubs omit SearchResult.count, which search(count=True) fills
        return TextHits(int(result.count or 0), hits)  # type: ignore[attr-defined]
