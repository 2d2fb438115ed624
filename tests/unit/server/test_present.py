"""Caption highlighting and pagination, checked as properties."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from traindex.catalog.text import fold
from traindex.server.present import highlight, pages

words = st.sampled_from(
    ["Müller", "kitten", "KITTEN", "falcon", "9", "the", "naïve", "nai\u0308ve", "x_y", "photo"]
)
separators = st.sampled_from([" ", ", ", " (", ") ", "-", "/", "'s "])
captions = st.lists(st.tuples(words, separators), max_size=10).map(
    lambda parts: "".join(w + s for w, s in parts)
)
terms = st.lists(st.sampled_from(["muller", "kitten", "9", "naive", "y", "photo"]), max_size=3)


@given(st.text(max_size=60), terms)
def test_highlight_gives_any_caption_back(caption: str, wanted: list[str]) -> None:
    segments = highlight(caption, wanted)
    assert "".join(text for text, _ in segments) == caption
    assert all(set(fold(text)) & set(wanted) for text, hit in segments if hit)


@given(captions, terms)
def test_highlight_marks_exactly_the_matched_words(caption: str, wanted: list[str]) -> None:
    segments = highlight(caption, wanted)
    assert "".join(text for text, _ in segments) == caption
    for text, hit in segments:
        assert bool(set(fold(text)) & set(wanted)) == hit or (not hit and not fold(text))


def test_highlight_example() -> None:
    assert highlight("Photo by Jürgen Müller, 2019", ["muller"]) == [
        ("Photo by Jürgen ", False),
        ("Müller", True),
        (", 2019", False),
    ]
    assert highlight(None, ["x"]) == []


@given(st.integers(0, 10_000), st.integers(1, 50), st.data())
def test_pages_always_link_first_current_and_last(
    total: int, size: int, data: st.DataObject
) -> None:
    count = max(1, -(-total // size))
    current = data.draw(st.integers(0, count - 1))
    links = pages(total, current * size, size)
    numbers = [p.number for p in links]
    assert numbers == sorted(set(numbers))
    assert {1, count, current + 1} <= set(numbers)
    assert [p.number for p in links if p.current] == [current + 1]
    assert all(p.offset == (p.number - 1) * size for p in links)


def test_key_matches_explain_themselves_even_without_details() -> None:
    from traindex.core.matches import Match
    from traindex.server.present import match_number

    base = {"dataset": "d", "release": "r", "shard": "s", "row": 0, "caption": None}
    bare = Match(**base, url="https://a.example.com/x.jpg", license=None, width=None,
                 height=None, method="domain", score=1.0)  # fmt: skip
    assert (
        match_number(bare) == "exact match: the image is served from a.example.com, on the domain ?"
    )
