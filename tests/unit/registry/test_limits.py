"""Token buckets (fake clock) and selector normalisation properties."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from traindex.registry.errors import ClaimRejected
from traindex.registry.models import Selector
from traindex.registry.ratelimit import TokenBuckets
from traindex.registry.selectors import normalise_selector


def test_bucket_allows_burst_then_refills_at_rate() -> None:
    now = [0.0]
    buckets = TokenBuckets(rate=2.0, burst=3, clock=lambda: now[0])
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == 0.5
    assert buckets.take("b") == 0.0  # keys are independent
    now[0] = 0.5
    assert buckets.take("a") == 0.0
    assert buckets.take("a") > 0


@given(st.sampled_from(["url", "url_prefix", "domain", "flickr_owner"]), st.text(max_size=80))
def test_normalisation_is_idempotent_or_rejects(kind: str, value: str) -> None:
    try:
        once = normalise_selector(Selector(kind, value))  # type: ignore[arg-type]
    except ClaimRejected:
        return
    assert normalise_selector(once) == once


# The "tdx" prefix keeps the label out of the public suffix list's private section, where
# short names under .com (br.com, us.com, ...) are suffixes that nobody may claim.
@given(st.from_regex(r"tdx[a-z]{1,10}\.(com|org|co\.uk)", fullmatch=True))
def test_registrable_domains_are_accepted(domain: str) -> None:
    assert normalise_selector(Selector("domain", domain.upper())).value == domain


def test_flat_images_claim_the_file_only() -> None:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (128, 128, 128)).save(buffer, format="PNG")
    selector = Selector.for_image(buffer.getvalue())
    assert selector.sha256
    assert selector.pdq is None
