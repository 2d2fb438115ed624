"""The URL key filter never misses a member, and its hash depends on the string alone."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from traindex.registry.keyfilter import KeyFilter, fingerprints

_TEXT = st.text(max_size=40)


@given(st.lists(st.one_of(st.none(), _TEXT), min_size=1, max_size=30), st.data())
def test_fingerprint_depends_on_the_string_alone(
    values: list[str | None], data: st.DataObject
) -> None:
    # Same hash in any batch, at any offset of a sliced array, as large_string too, and
    # after skipping a prefix.
    start = data.draw(st.integers(0, len(values) - 1))
    whole = pa.array(values, pa.string())
    for array in (whole.slice(start), pa.array(values[start:], pa.large_string())):
        got = fingerprints(array)
        for row, value in enumerate(values[start:]):
            if value is not None:
                assert got[row] == fingerprints(pa.array([value]))[0]
    prefixed = pa.array([None if v is None else "ab" + v for v in values])
    skipped = fingerprints(prefixed, np.full(len(values), 2, np.int64))
    for row, value in enumerate(values):
        if value is not None:
            assert skipped[row] == fingerprints(pa.array([value]))[0]


def test_fingerprints_tell_near_identical_strings_apart() -> None:
    # Strings that differ in one byte anywhere, or only in length, must not collide here.
    base = "//img.example.com/p/1234567.jpg?w=600&h=400"
    values = [base, base + "x", base[:-1], ""] + [
        base[:i] + chr(ord(base[i]) ^ 1) + base[i + 1 :] for i in range(len(base))
    ]
    assert len(set(fingerprints(pa.array(values)).tolist())) == len(values)


@given(
    st.sets(_TEXT, max_size=40),
    st.lists(_TEXT, max_size=40),
    st.lists(st.one_of(st.none(), _TEXT), max_size=40),
)
def test_candidates_include_every_member(
    first: set[str], later: list[str], probes: list[str | None]
) -> None:
    members = set(first)
    keys = KeyFilter(lambda: members, rebuild_after=3)  # small: rebuilds happen here
    queries = [*probes, *first, *later]
    for step, key in enumerate(later):
        if step % 4 == 0:
            _assert_superset(keys, members, queries)
        members.add(key)
        keys.add(key)
    if members:
        members.discard(next(iter(members)))  # removals need no call: still a superset
    _assert_superset(keys, members, queries)


def _assert_superset(keys: KeyFilter, members: set[str], queries: list[str | None]) -> None:
    mask = keys.candidates(pa.array(queries, pa.string())).tolist()
    for value, candidate in zip(queries, mask, strict=True):
        if value is None:
            assert candidate is False
        elif value in members:
            assert candidate is True, value


def test_candidates_are_exact_on_urls() -> None:
    # With 64-bit hashes a false candidate is possible but not among these 20,000 keys.
    rng = random.Random(3)
    urls = [f"//h{rng.randrange(50)}.example/p/{rng.randrange(10**9)}.jpg" for _ in range(20_000)]
    members = set(urls[::2])
    mask = KeyFilter(lambda: members).candidates(pa.array(urls))
    assert mask.tolist() == [u in members for u in urls]
    # The same keys behind a prefix that ``skip`` removes (as for "http:"/"https:" URLs).
    schemes = ["https:" if i % 3 else "http:" for i in range(len(urls))]
    skip = np.array([len(s) for s in schemes], np.int64)
    prefixed = pa.array([s + u for s, u in zip(schemes, urls, strict=True)])
    assert KeyFilter(lambda: members).candidates(prefixed, skip).tolist() == mask.tolist()
