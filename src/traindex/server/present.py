"""Results as people read them: grouped by how sure the match is, explained in plain words.

Groups come in order of confidence: the same file, the same image (with its PDQ
distance), the same URL or Flickr photo, the user's Flickr account, their domain or URL
prefix, captions that mention the words, and semantic neighbours last. Every card says
which of these it is, the number behind it, and what that number means. Captions are
split into segments so the template can mark the matched words without building HTML in
Python (Jinja2 escapes every segment).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from traindex.catalog.text import fold
from traindex.core.match_evidence import measure_of
from traindex.core.matches import Match, MatchMethod
from traindex.fingerprint.base import PDQ_MATCH_RADIUS
from traindex.search.views import ReleaseView
from traindex.server.thumbnails import Thumbnails

__all__ = [
    "Card",
    "Group",
    "Page",
    "build_groups",
    "highlight",
    "match_number",
    "pages",
    "row_link",
]

# A word, with any combining marks it carries (captions may arrive decomposed, NFD).
_TOKEN = re.compile(r"[^\W_](?:[^\W_]|[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff])*")


@dataclass(frozen=True, slots=True)
class _GroupSpec:
    title: str
    meaning: str


_GROUPS: dict[str, _GroupSpec] = {
    "same_file": _GroupSpec(
        "Same file", "The dataset holds a file whose bytes are identical to yours (SHA-256)."
    ),
    "same_image": _GroupSpec(
        "Same image",
        "The same picture, perhaps resized, re-encoded or lightly edited: PDQ perceptual "
        "hashes differ in only a few of 256 bits.",
    ),
    "same_face": _GroupSpec("Same face", "A face in the dataset image is very close to yours."),
    "exact_url": _GroupSpec(
        "Same URL", "The dataset row points at exactly this address (after normalising it)."
    ),
    "flickr_photo": _GroupSpec("Same Flickr photo", "The row's URL is this Flickr photo."),
    "flickr_user": _GroupSpec("Flickr account", "The row's URL belongs to this Flickr account."),
    "domain": _GroupSpec("On the domain", "The row's image URL is on this domain."),
    "url_prefix": _GroupSpec("Under the URL", "The row's image URL starts with this address."),
    "text": _GroupSpec(
        "Caption mentions",
        "The caption contains the words searched for. A mention is a lead, not proof that "
        "the image is yours.",
    ),
    "similar": _GroupSpec(
        "Similar", "Looks alike to a neural network (CLIP); never presented as your image."
    ),
}
GROUP_ORDER: tuple[str, ...] = tuple(_GROUPS)


def highlight(caption: str | None, terms: Sequence[str]) -> list[tuple[str, bool]]:
    """``caption`` as (text, matched) segments: words whose folded form is in ``terms``.

    Concatenating the segments gives the caption back unchanged.
    """
    text = caption or ""
    wanted = set(terms)
    segments: list[tuple[str, bool]] = []
    last = 0
    for token in _TOKEN.finditer(text):
        if wanted and set(fold(token.group())) & wanted:
            if token.start() > last:
                segments.append((text[last : token.start()], False))
            segments.append((token.group(), True))
            last = token.end()
    if last < len(text):
        segments.append((text[last:], False))
    return segments


class _Known(dict[str, object]):
    """Format values; a field the row does not have reads as "?" instead of failing."""

    def __missing__(self, key: str) -> str:
        return "?"


_KEY_WORDS = {
    "exact_url": "exact match: the row's URL is the address searched for (after normalising)",
    "url_prefix": "exact match: the row's URL starts with the prefix searched for",
    "domain": "exact match: the image is served from {host}, on the domain {domain}",
    "flickr_photo": "exact match: the row's URL is Flickr photo {flickr_photo_id}",
    "flickr_user": "exact match: the row's URL is on the Flickr account {flickr_owner}",
}


def match_number(match: Match) -> str:
    """The number behind the match and what it means."""
    measured = measure_of(match.evidence)
    explanation = measured.explanation
    if match.method == "same_image" and measured.distance is None:
        return f"{measured.inliers} matching keypoints: {explanation or ''}"
    if match.method == "same_image":
        limit = PDQ_MATCH_RADIUS if measured.threshold is None else measured.threshold
        return (
            f"PDQ distance {measured.distance} of 256 bits "
            f"(matches up to {limit}): {explanation or ''}"
        )
    if match.method == "same_file":
        return "distance 0: " + (explanation or "identical bytes")
    if match.method == "text":
        return f"relevance {match.score:.2f} (BM25; higher means the words are more prominent)"
    if match.method == "similar":
        return f"similarity {match.score:.3f} (cosine; 1 would be identical)"
    if match.method == "same_face":
        return explanation or f"face distance {measured.distance}"
    values = _Known({**match.extra, "host": urlsplit(match.url).hostname, "url": match.url})
    return _KEY_WORDS.get(match.method, "exact match of {url}").format_map(values)


@dataclass
class Card:
    """One result as displayed."""

    match: Match
    segments: list[tuple[str, bool]]
    number: str
    row_url: str
    thumb_url: str | None
    query_file: str | None

    @property
    def size(self) -> str | None:
        m = self.match
        return f"{m.width}\u00d7{m.height}" if m.width and m.height else None


@dataclass
class Group:
    method: str
    title: str
    meaning: str
    cards: list[Card] = field(default_factory=list)


def row_link(match: Match) -> str:
    query = urlencode({"shard": match.shard, "row": match.row})
    return f"/rows/{match.dataset}/{match.release}?{query}"


ViewOf = Callable[[str, str], ReleaseView | None]


def _thumb(match: Match, view_of: ViewOf, thumbs: Thumbnails) -> str | None:
    view = view_of(match.dataset, match.release)
    if view is None:
        return None
    shard_id = next((sid for sid, rel in view.relpaths.items() if rel == match.shard), None)
    if shard_id is None or thumbs.showable(view, shard_id, match.row) is None:
        return None
    return f"/thumbs/{match.dataset}/{match.release}/{shard_id}/{match.row}.jpg"


def build_groups(
    matches: Sequence[Match], view_of: ViewOf, thumbs: Thumbnails, *, uploads: bool = True
) -> list[Group]:
    """Matches grouped by method in ``GROUP_ORDER``; empty groups are left out.

    ``uploads=False`` when the query image is not the visitor's file (the row page).
    """
    groups = {m: Group(m, spec.title, spec.meaning) for m, spec in _GROUPS.items()}
    opened: dict[tuple[str, str], ReleaseView | None] = {}

    def cached_view(dataset: str, release: str) -> ReleaseView | None:
        if (dataset, release) not in opened:
            opened[(dataset, release)] = view_of(dataset, release)
        return opened[(dataset, release)]

    for match in matches:
        method: MatchMethod = match.method
        query_file = (match.query or None) if uploads else None
        groups[method].cards.append(
            Card(
                match,
                highlight(match.caption, match.matched_terms),
                match_number(match),
                row_link(match),
                _thumb(match, cached_view, thumbs),
                str(query_file) if query_file is not None else None,
            )
        )
    return [g for g in groups.values() if g.cards]


@dataclass(frozen=True, slots=True)
class Page:
    number: int
    offset: int
    current: bool


def pages(total: int, offset: int, size: int, around: int = 3) -> list[Page]:
    """Page links around the current page (first and last always), for a result of ``total``."""
    count = max(1, -(-total // size))
    current = offset // size
    wanted = {0, count - 1, *range(current - around, current + around + 1)}
    return [Page(n + 1, n * size, n == current) for n in sorted(wanted) if 0 <= n < count]
