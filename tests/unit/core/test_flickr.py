"""parse_flickr_url and flickr_owner: every URL form of docs §A.12, real dataset URLs, fuzz."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from traindex.core.flickr import FlickrRef, flickr_owner, parse_flickr_url

CREDITS = Path(
    "conceptual-captions/competition/skeleton/conceptual-captions/test_images/credits.csv"
)
LAION_10000 = Path("img2dataset/tests/test_files/test_10000.parquet")


def _laion_urls(shared_data: Path) -> list[str]:
    column = pq.read_table(shared_data / LAION_10000, columns=["URL"]).column("URL")
    urls = [url for url in column.to_pylist() if isinstance(url, str)]
    assert len(urls) == 10_000
    return urls


@pytest.mark.parametrize(
    ("url", "ref"),
    [
        (
            "https://live.staticflickr.com/65535/49912345678_0123abcdef_b.jpg",
            FlickrRef(49912345678, "65535", "0123abcdef", "b", None),
        ),
        (
            "https://farm7.staticflickr.com/6112/6326800071_be57592c53.jpg",
            FlickrRef(6326800071, "6112", "be57592c53", None, 7),
        ),
        (
            "http://farm1.static.flickr.com/32/51234567_abcdef1234_m.jpg",
            FlickrRef(51234567, "32", "abcdef1234", "m", 1),
        ),
        (
            "https://c2.staticflickr.com/2/1433/946782888_84c5811a41_o.jpg",
            FlickrRef(946782888, "1433", "84c5811a41", "o", 2),
        ),
        (
            "https://c3.staticflickr.com/1/28/40822753_105bf3f247_z.jpg?zz=1",
            FlickrRef(40822753, "28", "105bf3f247", "z", 1),
        ),
        (
            "HTTPS://FARM4.STATICFLICKR.COM/3231/2930401983_0d7b04ca07_o.png",
            FlickrRef(2930401983, "3231", "0d7b04ca07", "o", 4),
        ),
        (
            "farm4.staticflickr.com/3231/2930401983_0d7b04ca07.jpg",
            FlickrRef(2930401983, "3231", "0d7b04ca07", None, 4),
        ),
        (
            "https://www.flickr.com/photos/danielbuechele/6061409035",
            FlickrRef(6061409035, None, None, None, None),
        ),
        (
            "https://www.flickr.com/photos/danielbuechele/6061409035/sizes/z/in/photostream/",
            FlickrRef(6061409035, None, None, None, None),
        ),
        ("https://flickr.com/photos/39089491@N00/123/", FlickrRef(123, None, None, None, None)),
        (
            "https://www.flickr.com/photo.gne?id=16504233985",
            FlickrRef(16504233985, None, None, None, None),
        ),
        ("https://flic.kr/p/r9qvLn", FlickrRef(16504233985, None, None, None, None)),
        ("flic.kr/p/r9qvLn/", FlickrRef(16504233985, None, None, None, None)),
        ("http://flic.kr/p/2", FlickrRef(1, None, None, None, None)),
        ("http://flic.kr/p/21", FlickrRef(58, None, None, None, None)),
        (
            "https://i1.wp.com/farm9.staticflickr.com/8034/8054867738_da43dc4e19.jpg?w=648",
            FlickrRef(8054867738, "8034", "da43dc4e19", None, 9),
        ),
    ],
)
def test_parse_flickr_url(url: str, ref: FlickrRef) -> None:
    assert parse_flickr_url(url) == ref


@pytest.mark.parametrize(
    "url",
    [
        "",
        "not a url",
        "https://example.com/6112/6326800071_be57592c53.jpg",
        "https://staticflickr.com.evil.example/6112/6326800071_be57592c53.jpg",
        "https://farm7.staticflickr.com/6112/6326800071.jpg",
        "https://www.flickr.com/photos/danielbuechele/",
        "https://www.flickr.com/photos/danielbuechele/albums/72157",
        "https://www.flickr.com/photos/tags/6061409035",
        "https://notflickr.com/photos/someone/6061409035",
        "https://flic.kr/p/0OIl",
        "https://flic.kr/s/aHsm",
        "ftp://farm7.staticflickr.com/6112/6326800071_be57592c53.jpg",
        "https://i1.wp.com/example.com/6112/6326800071_be57592c53.jpg",
        "https://example.com/resize.php?src=https://farm2.static.flickr.com/1/2_ab.jpg",
    ],
)
def test_non_photo_urls_give_none(url: str) -> None:
    assert parse_flickr_url(url) is None


@pytest.mark.parametrize(
    ("value", "owner"),
    [
        ("12345678@N00", "12345678@N00"),
        (" 12345678@n07 ", "12345678@N07"),
        ("https://www.flickr.com/photos/12345678@N00/6061409035/", "12345678@N00"),
        ("https://www.flickr.com/photos/12345678%40N00/", "12345678@N00"),
        ("https://www.flickr.com/people/88158121@N00/", "88158121@N00"),
        ("https://www.flickr.com/photos/danielbuechele/6061409035", "danielbuechele"),
        ("www.flickr.com/people/Chris_Parfitt", "Chris_Parfitt"),
        ("danielbuechele", None),
        ("https://farm7.staticflickr.com/6112/6326800071_be57592c53.jpg", None),
        ("https://www.flickr.com/photos/tags/sunset", None),
        ("https://www.flickr.com/explore", None),
        ("https://example.com/photos/danielbuechele/", None),
        ("", None),
    ],
)
def test_flickr_owner(value: str, owner: str | None) -> None:
    assert flickr_owner(value) == owner


@pytest.mark.parametrize(
    ("value", "owner"),
    [
        ("danielbuechele", "danielbuechele"),
        (" Chris_Parfitt ", "Chris_Parfitt"),
        ("12345678@n00", "12345678@N00"),
        ("https://www.flickr.com/photos/sneakerdog/946782888", "sneakerdog"),
        ("tags", None),
        ("two words", None),
        ("", None),
    ],
)
def test_flickr_owner_bare_alias_where_context_says_account(value: str, owner: str | None) -> None:
    assert flickr_owner(value, bare_alias=True) == owner


@given(st.text(max_size=80))
def test_parsers_never_raise_on_text(value: str) -> None:
    ref = parse_flickr_url(value)
    assert ref is None or ref.photo_id >= 0
    owner = flickr_owner(value)
    assert owner is None or re.fullmatch(r"[A-Za-z0-9_.@\-]+", owner)


@given(
    st.from_regex(
        r"(https?://)?(www\.|farm[0-9]\.|c[0-9]\.|live\.)?(static)?flic(kr\.com|\.kr)/.{0,40}",
        fullmatch=True,
    )
)
def test_parsers_never_raise_on_flickr_like_urls(value: str) -> None:
    parse_flickr_url(value)
    flickr_owner(value)


@given(st.integers(min_value=1, max_value=10**15))
def test_short_links_round_trip_through_base58(photo_id: int) -> None:
    alphabet = "123456789abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
    digits = ""
    number = photo_id
    while number:
        number, rest = divmod(number, 58)
        digits = alphabet[rest] + digits
    ref = parse_flickr_url(f"https://flic.kr/p/{digits}")
    assert ref is not None
    assert ref.photo_id == photo_id


@pytest.mark.shared
def test_laion_flickr_static_urls_parse(shared_data: Path) -> None:
    urls = _laion_urls(shared_data)
    assert sum("staticflickr.com" in url for url in urls) == 21  # the count docs §B.2 gives
    mentions = [url for url in urls if "flickr.com" in url]
    parsed = {url: parse_flickr_url(url) for url in mentions}
    unparsed = [url for url, ref in parsed.items() if ref is None]
    # 21 staticflickr.com + 18 static.flickr.com + 2 behind i1.wp.com; the one left is a
    # WordPress plugin's resizer that carries the Flickr URL in its query string.
    assert len(mentions) == 42
    assert len(unparsed) == 1
    assert "afg_img_rsz.php?src=https://farm2.static.flickr.com/" in unparsed[0]
    for url, ref in parsed.items():
        if ref is not None:
            assert ref.secret is not None
            assert ref.server is not None
            assert f"/{ref.server}/{ref.photo_id}_{ref.secret}" in url
    assert sum(parse_flickr_url(url) is not None for url in urls) == 41


@pytest.mark.shared
def test_cc3m_credits_urls_and_owners_parse(shared_data: Path) -> None:
    with (shared_data / CREDITS).open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 18
    for row in rows:
        original = parse_flickr_url(row["OriginalURL"])
        page = parse_flickr_url(row["OriginalLandingURL"])
        assert original is not None
        assert page is not None
        assert original.size == "o"
        assert original.photo_id == page.photo_id
        if row["Thumbnail300KURL"]:
            thumbnail = parse_flickr_url(row["Thumbnail300KURL"])
            assert thumbnail is not None
            assert (thumbnail.photo_id, thumbnail.server, thumbnail.size) == (
                original.photo_id,
                original.server,
                "z",
            )
        owner = flickr_owner(row["AuthorProfileURL"])
        assert owner is not None
        assert owner == flickr_owner(row["OriginalLandingURL"])
    owners = {flickr_owner(row["AuthorProfileURL"]) for row in rows}
    assert "88158121@N00" in owners
    assert "sneakerdog" in owners
