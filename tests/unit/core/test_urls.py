"""canonical_url, registrable_domain, url_parts: examples, properties and real LAION URLs."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from traindex.core.urls import (
    UrlError,
    UrlParts,
    canonical_url,
    host_of,
    is_public_suffix,
    registrable_domain,
    url_parts,
)
from traindex.errors import InputError

LAION_10000 = Path("img2dataset/tests/test_files/test_10000.parquet")


def _laion_urls(shared_data: Path) -> list[str]:
    column = pq.read_table(shared_data / LAION_10000, columns=["URL"]).column("URL")
    urls = [url for url in column.to_pylist() if isinstance(url, str)]
    assert len(urls) == 10_000
    return urls


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HTTP://WWW.Example.COM", "http://www.example.com/"),
        ("  https://example.com/a  ", "https://example.com/a"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:443/a", "http://example.com:443/a"),
        ("http://example.com:0080/a", "http://example.com/a"),
        ("http://example.com:/a", "http://example.com/a"),
        ("https://example.com.:8443/", "https://example.com:8443/"),
        ("http://user:secret@example.com/a", "http://example.com/a"),
        ("http://example.com/a#section", "http://example.com/a"),
        ("http://example.com/a?", "http://example.com/a"),
        ("http://example.com/%7euser/%41%2e", "http://example.com/~user/A."),
        ("http://example.com/a%2fb%3A", "http://example.com/a%2Fb%3A"),
        ("http://example.com/a%2Fb?x=%2f", "http://example.com/a%2Fb?x=%2F"),
        ("http://example.com/a b?q=a b", "http://example.com/a%20b?q=a%20b"),
        ("http://example.com/100%", "http://example.com/100%25"),
        ("http://example.com/%zz", "http://example.com/%25zz"),
        ("http://example.com/café", "http://example.com/caf%C3%A9"),
        ("http://example.com/a[1]|{x}", "http://example.com/a%5B1%5D%7C%7Bx%7D"),
        ("http://example.com/a/./b/../c", "http://example.com/a/c"),
        ("http://example.com/a/%2e%2E/b", "http://example.com/b"),
        ("http://example.com/../../a", "http://example.com/a"),
        ("http://example.com/a/b/..", "http://example.com/a/"),
        ("http://example.com/a/..%2Fb", "http://example.com/a/..%2Fb"),
        ("http://example.com/a?b=../c", "http://example.com/a?b=../c"),
        ("http://example.com/a?q=1&amp;r=2", "http://example.com/a?q=1&amp;r=2"),
        ("http:\\\\example.com\\a\\b?c\\d", "http://example.com/a/b?c%5Cd"),
        ("https://münchen.de/straße", "https://xn--mnchen-3ya.de/stra%C3%9Fe"),
        ("https://MÜNCHEN.DE/", "https://xn--mnchen-3ya.de/"),
        ("https://xn--mnchen-3ya.de/", "https://xn--mnchen-3ya.de/"),
        ("https://例え.テスト/", "https://xn--r8jz45g.xn--zckzah/"),
        ("https://Example\u3002com\u3002/", "https://example.com/"),
        ("http://product_images.s3.amazonaws.com/x", "http://product_images.s3.amazonaws.com/x"),
        ("https://a_b.ü.com/", "https://a_b.xn--tda.com/"),
        ("http://%65xample.com/", "http://example.com/"),
        ("http://192.168.0.1:8080/x", "http://192.168.0.1:8080/x"),
        ("http://[2001:DB8:0:0::1]:80/x", "http://[2001:db8::1]/x"),
    ],
)
def test_canonical_url_examples(raw: str, expected: str) -> None:
    assert canonical_url(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("UNLIKELY", "no scheme"),
        ("www.example.com/a.jpg", "no scheme"),
        ("ftp://example.com/a", "unsupported scheme 'ftp'"),
        ("data:image/png;base64,AAAA", "unsupported scheme 'data'"),
        ("http:/example.com", "no host"),
        ("http://", "no host"),
        ("http://user@/a", "no host"),
        ("http://example.com:99999/", "invalid port '99999'"),
        ("http://example.com:8o/", "invalid port '8o'"),
        ("http://example.com:\uff11\uff12/", "invalid port"),
        ("http://exa mple.com/", "invalid characters in host"),
        ("http://999.1.1.1/", "looks like an IPv4 address"),
        ("http://[2001:db8::g]/", "invalid IPv6 address"),
        ("http://[::1/", "malformed IPv6 host"),
        ("http://example.com/\x00", "U+0000 at position 19"),
        ("  http://exa\tmple.com/", "U+0009 at position 12"),
        ("http://example.com/\x7f", "U+007F"),
        ("http://example.com/a\x9bb", "U+009B"),
        ("http://example.com/\ud800", "not valid Unicode"),
        ("http://example.com/?q=\udcff", "U+DCFF, which is not valid Unicode"),
        ("http://\ud800.example.com/", "not a valid international domain name"),
    ],
)
def test_canonical_url_rejects_with_reason(raw: str, reason: str) -> None:
    with pytest.raises(UrlError, match=re.escape(reason)):
        canonical_url(raw)


def test_url_error_is_an_input_error() -> None:
    with pytest.raises(InputError):
        canonical_url("mailto:someone@example.com")


def test_max_chars_counts_input_and_escaped_output() -> None:
    url = "http://example.com/" + "a" * 81
    assert canonical_url(url, max_chars=100) == url
    with pytest.raises(UrlError, match="101 characters long, more than 100"):
        canonical_url(url + "b", max_chars=100)
    with pytest.raises(UrlError, match="once escaped"):
        canonical_url("http://example.com/" + "é" * 30, max_chars=100)


@pytest.mark.parametrize(
    ("host", "domain"),
    [
        ("www.bbc.co.uk", "bbc.co.uk"),
        ("WWW.BBC.CO.UK.", "bbc.co.uk"),
        ("bbc.co.uk", "bbc.co.uk"),
        ("a.b.c.example.com", "example.com"),
        ("alice.github.io", "alice.github.io"),
        ("www.münchen.de", "xn--mnchen-3ya.de"),
        ("www.xn--mnchen-3ya.de", "xn--mnchen-3ya.de"),
        ("192.168.0.1", "192.168.0.1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("2001:DB8:0::1", "2001:db8::1"),
        ("co.uk", None),
        ("github.io", None),
        ("com", None),
        ("localhost", None),
    ],
)
def test_registrable_domain(host: str, domain: str | None) -> None:
    assert registrable_domain(host) == domain


def test_registrable_domain_rejects_non_hosts() -> None:
    with pytest.raises(UrlError):
        registrable_domain("not a host")
    with pytest.raises(UrlError):
        registrable_domain("")


@pytest.mark.parametrize(
    ("name", "public"),
    [
        ("co.uk", True),
        ("CO.UK.", True),
        ("uk", True),
        ("github.io", True),
        ("localhost", True),
        ("bbc.co.uk", False),
        ("alice.github.io", False),
        ("127.0.0.1", False),
        ("::1", False),
    ],
)
def test_is_public_suffix(name: str, public: bool) -> None:
    assert is_public_suffix(name) is public


def test_url_parts_and_host_of() -> None:
    parts = url_parts("HTTPS://User@Photos.Example.CO.UK:8443/a/../b.jpg#x")
    assert parts == UrlParts(
        "https://photos.example.co.uk:8443/b.jpg", "photos.example.co.uk", "example.co.uk"
    )
    assert host_of(parts.url) == parts.host
    v6 = url_parts("http://[2001:db8::1]:8080/")
    assert (v6.host, v6.domain, host_of(v6.url)) == (
        "[2001:db8::1]",
        "2001:db8::1",
        "[2001:db8::1]",
    )
    assert url_parts("http://co.uk/").domain is None
    with pytest.raises(UrlError):
        host_of("example.com/a")


# Hosts: 1-4 labels of letters/digits/hyphens on a few real suffixes, in mixed case.
_LABEL = st.from_regex(r"[a-z0-9]([a-z0-9\-]{0,10}[a-z0-9])?", fullmatch=True)
_SUFFIX = st.sampled_from(["com", "co.uk", "de", "github.io", "xn--p1ai", "org.au"])
_HOSTS = st.builds(
    lambda labels, suffix: ".".join([*labels, suffix]),
    st.lists(_LABEL, min_size=1, max_size=4),
    _SUFFIX,
)
_URLISH = st.one_of(
    st.text(max_size=60),
    st.builds(
        lambda scheme, host, tail: f"{scheme}://{host}{tail}",
        st.sampled_from(["http", "HTTPS", "ftp", "Http"]),
        _HOSTS,
        st.text(
            alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"])
            | st.sampled_from("/?#%.:@[]\\"),
            max_size=40,
        ),
    ),
)


@settings(max_examples=400)
@given(_URLISH)
def test_canonical_url_properties(raw: str) -> None:
    try:
        url = canonical_url(raw)
    except UrlError:
        return
    assert canonical_url(url) == url
    assert "#" not in url
    assert not re.search(r"[\x00-\x20\x7f-\x9f]", url)
    assert url.isascii()
    host = host_of(url)
    assert host == host.lower()
    assert url.startswith(("http://", "https://"))


@given(_HOSTS)
def test_registrable_domain_properties(host: str) -> None:
    domain = registrable_domain(host)
    # Short labels can themselves be suffixes (x0.com and uk.com are in the private section).
    assert (domain is None) is is_public_suffix(host)
    if domain is None:
        return
    assert host == domain or host.endswith("." + domain)
    assert registrable_domain(host.upper()) == domain
    assert registrable_domain("a.x." + domain) == domain
    assert is_public_suffix(domain) is False


def test_subdomains_share_the_registrable_domain() -> None:
    assert registrable_domain("a.x.example.co.uk") == registrable_domain("example.co.uk")


@pytest.mark.shared
def test_all_laion_urls_canonicalise(shared_data: Path) -> None:
    urls = _laion_urls(shared_data)
    rejected: list[str] = []
    suffix_hosts: set[str] = set()
    for raw in urls:
        try:
            parts = url_parts(raw)
        except UrlError:
            rejected.append(raw)
            continue
        assert canonical_url(parts.url) == parts.url
        assert host_of(parts.url) == parts.host
        if parts.domain is None:
            suffix_hosts.add(parts.host)
    # The only non-URL in the sample is a literal placeholder row.
    assert rejected == ["UNLIKELY"]
    # Path-style S3 endpoints are private-section public suffixes: the bucket, not the
    # host, says who owns the image, so these rows get no registrable domain.
    assert suffix_hosts
    assert all(re.fullmatch(r"s3[.\-][a-z0-9.\-]*amazonaws\.com", host) for host in suffix_hosts)


@pytest.mark.shared
def test_laion_default_ports_and_spaces_are_normalised(shared_data: Path) -> None:
    urls = _laion_urls(shared_data)
    canonical = [canonical_url(u) for u in urls if u != "UNLIKELY"]
    assert sum(":443/" in u for u in urls) == 7
    assert not any(":443/" in u for u in canonical)
    assert not any(" " in u for u in canonical)
    # Canonical URLs are distinct whenever the raw ones were, apart from real duplicates.
    assert len(set(canonical)) == len({u for u in urls if u != "UNLIKELY"})
