"""The AI crawler product tokens, kept as package data (``crawlers.toml``) with their source.

The list changes every few months; keeping it as data means a refresh is a reviewed data
change, not a code change, and the source commit travels with it.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = ["Crawler", "crawler_source", "crawlers", "default_agents", "is_product_token"]

_TOKEN = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


@dataclass(frozen=True, slots=True)
class Crawler:
    """One crawler: its robots.txt product token, operator and purpose."""

    token: str
    operator: str
    purpose: str
    respects_robots: str
    default: bool


def is_product_token(value: str) -> bool:
    """A bare crawler token: letters, ``_``, ``-`` (RFC 9309 §2.2.1), plus digits.

    Digits are accepted because real tokens carry them (``AI2Bot``); robots.txt matching
    then uses the part before the first digit, as RFC-strict parsers read the group name.
    """
    return bool(_TOKEN.match(value))


@cache
def _data() -> dict[str, object]:
    text = resources.files("traindex.signals").joinpath("crawlers.toml").read_text("utf-8")
    return tomllib.loads(text)


@cache
def crawlers() -> tuple[Crawler, ...]:
    """Every crawler in ``crawlers.toml``, in file order."""
    rows = _data()["crawler"]
    if not isinstance(rows, list):
        raise TypeError("crawlers.toml: [[crawler]] must be an array of tables")
    return tuple(
        Crawler(
            token=str(row["token"]),
            operator=str(row["operator"]),
            purpose=str(row["purpose"]),
            respects_robots=str(row["respects_robots"]),
            default=bool(row["default"]),
        )
        for row in rows
    )


def default_agents() -> tuple[str, ...]:
    """Tokens checked when the user names none: the AI-training crawlers."""
    return tuple(c.token for c in crawlers() if c.default)


def crawler_source() -> str:
    """Where the list comes from (repository, file, commit, licence)."""
    return str(_data()["source"])
