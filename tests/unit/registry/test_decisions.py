"""The decision index against a brute-force oracle that reads each claim's definition literally."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from traindex.core.flickr import flickr_owner
from traindex.core.urls import UrlError, url_parts
from traindex.registry.decisions import ClaimRecord, DecisionIndex
from traindex.registry.models import DECISION_OF_TERMS, RESTRICTIVENESS, TERMS

NOW = datetime(2026, 1, 1, tzinfo=UTC)
HOSTS = [
    "example.com",
    "a.example.com",
    "b.a.example.com",
    "photos.org",
    "www.flickr.com",
    "shop.co.uk",
    "x.shop.co.uk",
    "127.0.0.1",
    "localhost",  # one label: a domain claim on it must still reach its subdomains
    "img.localhost",
]
PATHS = ["/", "/a", "/a/b.jpg", "/ab", "/photos/12345678@N00/99", "/photos/alice/1", "/a/b/c"]


def _claims(rng: random.Random, n: int) -> list[ClaimRecord]:
    out = []
    for i in range(n):
        kind = rng.choice(["url", "url_prefix", "domain", "domain", "flickr_owner"])
        host = rng.choice(HOSTS)
        if kind == "domain":
            value = host
        elif kind == "flickr_owner":
            value = rng.choice(["12345678@N00", "alice", "bob"])
        else:
            path = rng.choice(PATHS)
            value = f"{rng.choice(['http', 'https'])}://{host}{path}"
            if kind == "url_prefix":
                value = value[: rng.randint(len(value) - len(path) + 1, len(value))]
        out.append(
            ClaimRecord(
                id=f"c{i}",
                kind=kind,
                value=value,
                include_subdomains=rng.random() < 0.5,
                sha256=None,
                md5=None,
                pdq=None,
                terms=rng.choice(TERMS),
                status=rng.choice(["verified", "unverified"]),
                expires_at=rng.choice([None, None, NOW.timestamp() - 1, NOW.timestamp() + 1]),
            )
        )
    return out


def _scheme_less(url: str) -> str:
    return url.split(":", 1)[1]


def _matches(claim: ClaimRecord, url: str) -> bool:
    parts = url_parts(url)
    if claim.kind == "url":
        return _scheme_less(url_parts(claim.value).url) == _scheme_less(parts.url)
    if claim.kind == "url_prefix":
        return _scheme_less(parts.url).startswith(_scheme_less(url_parts(claim.value).url))
    if claim.kind == "domain":
        if claim.include_subdomains:
            return parts.host == claim.value or parts.host.endswith("." + claim.value)
        return parts.host == claim.value
    owner = flickr_owner(parts.url)
    return owner is not None and (owner if "@" in owner else owner.lower()) == claim.value


def _oracle(claims: list[ClaimRecord], url: str, count_unverified: bool) -> tuple[str, set[str]]:
    live = [
        c
        for c in claims
        if (c.expires_at is None or c.expires_at > NOW.timestamp())
        and (c.status == "verified" or count_unverified)
        and _matches(c, url)
    ]
    if not live:
        return "unknown", set()
    top = max(RESTRICTIVENESS[DECISION_OF_TERMS[c.terms]] for c in live)
    ids = {c.id for c in live if RESTRICTIVENESS[DECISION_OF_TERMS[c.terms]] == top}
    return _name(top), ids


def _name(rank: int) -> str:
    return next(name for name, value in RESTRICTIVENESS.items() if value == rank)


def _urls(rng: random.Random, n: int) -> list[str]:
    urls = []
    for _ in range(n):
        host = rng.choice(HOSTS)
        host = host.upper() if rng.random() < 0.2 else host
        scheme = rng.choice(["http", "https", "HTTPS"])
        urls.append(f"{scheme}://{host}{rng.choice(PATHS)}{rng.choice(['', '?x=1', '/../a'])}")
    return urls


def _check_against_oracle(index: DecisionIndex, claims: list[ClaimRecord], urls: list[str]) -> None:
    for flag in (False, True):
        for url, decision in zip(
            urls, index.check(urls, count_unverified=flag, now=NOW), strict=True
        ):
            expected, ids = _oracle(claims, url, flag)
            assert (decision.decision, set(decision.claim_ids)) == (expected, ids), url


def test_index_equals_oracle_on_random_claims() -> None:
    for seed in range(15):
        rng = random.Random(seed)
        claims = _claims(rng, 40)
        index = DecisionIndex()
        for claim in claims:
            index.apply(claim)
        urls = _urls(rng, 200)
        _check_against_oracle(index, claims, urls)
        # revoke a random half: the index must forget exactly those
        revoked = set(rng.sample(range(len(claims)), len(claims) // 2))
        for i in revoked:
            index.apply(_revoked(claims[i]))
        kept = [c for i, c in enumerate(claims) if i not in revoked]
        _check_against_oracle(index, kept, urls)
        assert len(index) == len(kept)


def test_index_follows_claims_added_after_checks() -> None:
    # Checks build per-host caches and the URL key filter; claims added afterwards (one by
    # one, as a server applies writes) must be seen by the next check.
    for seed in range(8):
        rng = random.Random(100 + seed)
        claims = _claims(rng, 40)
        urls = _urls(rng, 120)
        index = DecisionIndex()
        for done, claim in enumerate(claims, start=1):
            index.apply(claim)
            if done % 8 == 0:
                _check_against_oracle(index, claims[:done], urls)


def _revoked(claim: ClaimRecord) -> ClaimRecord:
    return ClaimRecord(
        claim.id,
        claim.kind,
        claim.value,
        claim.include_subdomains,
        claim.sha256,
        claim.md5,
        claim.pdq,
        claim.terms,
        "revoked",
        claim.expires_at,
    )


@given(st.text(max_size=200))
def test_any_item_gets_a_decision_never_an_exception(item: str) -> None:
    index = DecisionIndex()
    index.apply(_claims(random.Random(1), 1)[0])
    (decision,) = index.check([item], count_unverified=True, now=NOW)
    assert decision.item == item
    if decision.error is not None:
        assert decision.decision == "unknown"


def test_bad_urls_are_reported_not_raised() -> None:
    decisions = DecisionIndex().check(
        ["not a url", "sha256:xyz", "https://ok.example/"], count_unverified=False, now=NOW
    )
    assert [d.error is not None for d in decisions] == [True, True, False]
    with pytest.raises(UrlError) as caught:
        url_parts("not a url")
    assert decisions[0].error == str(caught.value)


def test_match_url_rows_is_sparse_and_agrees_with_check() -> None:
    rng = random.Random(7)
    index = DecisionIndex()
    for claim in _claims(rng, 30):
        index.apply(claim)
    plain = _urls(rng, 100)
    hits, errors = index.match_url_rows(pa.array([*plain, None, "not a url"], pa.string()))
    assert all(hits.values())
    assert set(errors) == {100, 101}
    decisions = index.check(plain, count_unverified=True, now=NOW)
    for row, decision in enumerate(decisions):
        assert set(decision.claim_ids) <= set(hits.get(row, ()))
        assert (decision.decision == "unknown") or row in hits
