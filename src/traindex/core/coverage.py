"""Coverage: what an answer actually searched, per release and per signal.

Why a type of its own: LAION, COYO and DataComp ship URLs, not images, so a release can be
in the catalog while not one of its rows was ever fingerprinted. An image, face or similar
answer over such a release must say "not searched", never "not found" (DESIGN.md's
vocabulary); a partly fingerprinted release says how much was searched and why the rest
was not (download failures by reason, shards never fingerprinted). Every answer carries a
``Coverage`` and derives its per-query outcome from it, so the CLI, the JSON, the web pages
and signed reports cannot disagree. Pure data: computed by ``fingerprint.coverage``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

__all__ = [
    "CATALOG_SIGNAL",
    "SIGNALS",
    "Coverage",
    "CoverageState",
    "ReleaseCoverage",
    "Signal",
    "cover_command",
    "outcome_without_match",
]

Signal = Literal["sha256", "pdq", "keypoints", "faces", "clip", "iscc"]
SIGNALS: tuple[Signal, ...] = ("sha256", "pdq", "keypoints", "faces", "clip", "iscc")
CoverageState = Literal["searched", "partly searched", "not searched"]
CATALOG_SIGNAL = "catalog"
"""What URL, domain, Flickr and caption answers compare: the catalog's rows themselves.
Such an answer carries a coverage only when a fanned-out look-up lost catalog shards."""


def _state(covered: int, rows: int) -> CoverageState:
    if covered <= 0:
        return "not searched"
    return "searched" if covered >= rows else "partly searched"


@dataclass(frozen=True, slots=True)
class ReleaseCoverage:
    """One release: its rows, the rows each signal covers, and why the others are not.

    ``covered[signal]`` counts rows whose image that signal compared (rows of shards added
    to its index); ``failures`` counts rows whose image could not be fingerprinted, by
    reason (``HTTP 404``, ``reserved: X-Robots-Tag noai``, ``unreadable image`` ...);
    ``shards_not_searched`` names the release's source files that no signal has indexed.
    ``index_shards_lost`` names the release's index shards a fanned-out search could not
    reach (their holder node was lost or did not answer, ``search.fanout``): their rows
    are indexed but were not compared in this answer, so it is at most partly searched.
    """

    dataset: str
    release: str
    rows: int
    covered: Mapping[str, int] = field(default_factory=dict)
    failures: Mapping[str, int] = field(default_factory=dict)
    shards: int = 0
    shards_not_searched: tuple[str, ...] = ()
    index_shards_lost: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.dataset}/{self.release}"

    def rows_searched(self, signals: Iterable[str]) -> int:
        """Rows compared by at least one of ``signals``. Signals of one release cover
        nested sets (keypoints and faces only run on fingerprinted images), so the largest
        count is the union."""
        return max((self.covered.get(s, 0) for s in signals), default=0)

    def state(self, signals: Iterable[str]) -> CoverageState:
        state = _state(self.rows_searched(signals), self.rows)
        return "partly searched" if state == "searched" and self.index_shards_lost else state

    def describe(self, signals: Sequence[str]) -> str:
        """One sentence for people: "searched 8,412 of 9,999 rows; 1,587 images could not
        be fetched: 1,204 HTTP 404, ..." or "not searched: none of its N rows ..."."""
        searched = self.rows_searched(signals)
        which = ", ".join(signals)
        if searched <= 0:
            text = f"not searched: none of its {self.rows:,} rows has been fingerprinted ({which})"
        elif searched >= self.rows:
            text = f"searched all {self.rows:,} rows ({which})"
        else:
            text = f"searched {searched:,} of {self.rows:,} rows ({which})"
        failed = sum(self.failures.values())
        if failed:
            reasons = sorted(self.failures.items(), key=lambda kv: (-kv[1], kv[0]))
            listed = ", ".join(f"{n:,} {why}" for why, n in reasons)
            text += f"; {failed:,} image(s) could not be fingerprinted: {listed}"
        if self.shards_not_searched:
            text += f"; {len(self.shards_not_searched):,} of {self.shards:,} source file(s) "
            text += "never fingerprinted"
        if self.index_shards_lost:
            text += f"; index shard(s) {', '.join(self.index_shards_lost)} not searched "
            text += "(their node did not answer): matches there were not looked for"
        return text

    def to_json(self, signals: Sequence[str]) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "release": self.release,
            "state": self.state(signals),
            "rows": self.rows,
            "rows_searched": self.rows_searched(signals),
            "covered": dict(self.covered),
            "failures": dict(self.failures),
            "shards": self.shards,
            "shards_not_searched": list(self.shards_not_searched),
            "index_shards_not_searched": list(self.index_shards_lost),
            "summary": self.describe(signals),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ReleaseCoverage:
        return cls(
            dataset=str(data["dataset"]),
            release=str(data["release"]),
            rows=int(data["rows"]),
            covered={str(k): int(v) for k, v in dict(data.get("covered", {})).items()},
            failures={str(k): int(v) for k, v in dict(data.get("failures", {})).items()},
            shards=int(data.get("shards", 0)),
            shards_not_searched=tuple(str(s) for s in data.get("shards_not_searched", [])),
            index_shards_lost=tuple(str(s) for s in data.get("index_shards_not_searched", [])),
        )


@dataclass(frozen=True, slots=True)
class Coverage:
    """What one answer searched: the signals it used, over these releases."""

    signals: tuple[str, ...]
    releases: tuple[ReleaseCoverage, ...] = ()

    @property
    def rows(self) -> int:
        return sum(r.rows for r in self.releases)

    @property
    def rows_searched(self) -> int:
        return sum(r.rows_searched(self.signals) for r in self.releases)

    @property
    def state(self) -> CoverageState:
        if not self.releases:
            return "not searched"
        states = {r.state(self.signals) for r in self.releases}
        if states == {"searched"}:
            return "searched"
        return "not searched" if states == {"not searched"} else "partly searched"

    @property
    def index_shards_lost(self) -> list[str]:
        """``<dataset>/<release>:<index shard>`` of every index shard not reached."""
        return [f"{r.name}:{shard}" for r in self.releases for shard in r.index_shards_lost]

    def with_index_shards_lost(self, lost: Iterable[str]) -> Coverage:
        """This coverage with the ``<dataset>/<release>:<index shard>`` names in ``lost``
        added to their releases (a fanned-out search's unreached shards)."""
        by_release: dict[str, set[str]] = {}
        for qualified in lost:
            release, _, shard = qualified.rpartition(":")
            by_release.setdefault(release, set()).add(shard)
        releases = tuple(
            replace(r, index_shards_lost=tuple(sorted({*r.index_shards_lost, *extra})))
            if (extra := by_release.get(r.name))
            else r
            for r in self.releases
        )
        return replace(self, releases=releases)

    def uncovered(self) -> list[ReleaseCoverage]:
        """Releases with rows no signal of this answer compared (what a fingerprint run
        would add)."""
        return [r for r in self.releases if r.state(self.signals) != "searched"]

    def summary(self) -> str:
        if not self.releases:
            return "not searched: no release selected"
        counted = f"{self.state}: {self.rows_searched:,} of {self.rows:,} rows"
        lost = self.index_shards_lost
        if not lost:
            return f"{counted} compared"
        shards = ", ".join(lost)
        return f"{counted} indexed; index shard(s) {shards} not reached, their rows not compared"

    def to_json(self) -> dict[str, Any]:
        return {
            "signals": list(self.signals),
            "state": self.state,
            "rows": self.rows,
            "rows_searched": self.rows_searched,
            "summary": self.summary(),
            "releases": [r.to_json(self.signals) for r in self.releases],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Coverage:
        releases = tuple(ReleaseCoverage.from_json(r) for r in data.get("releases", []))
        return cls(tuple(str(s) for s in data.get("signals", [])), releases)


def outcome_without_match(coverage: Coverage | None) -> str:
    """What a query that matched nothing may claim: "not found" only when every row of
    every release was compared; else "partly searched" or "not searched". Without a
    coverage record (answers of metadata searches) the catalog was searched whole."""
    if coverage is None:
        return "not found"
    state = coverage.state
    return "not found" if state == "searched" else state


def cover_command(release: ReleaseCoverage, signals: Sequence[str]) -> str:
    """What would cover the rest of ``release`` for ``signals`` (shown with the answer)."""
    if "clip" in signals:
        return f"ingest {release.name} with its published CLIP embeddings (LAION layout)"
    if release.index_shards_lost:  # placing the index again reaches every shard
        command = f"traindex place-index --dataset {release.name}"
        catalog = any(s.startswith(f"{CATALOG_SIGNAL}/") for s in release.index_shards_lost)
        return command + " --catalog" if catalog else command
    if "iscc" in signals:  # the ISCC stage reads images on disk only (not --download)
        return f"traindex fingerprint --dataset {release.name} --iscc [--images DIR]"
    command = f"traindex fingerprint --dataset {release.name} --download"
    return command + " --faces" if "faces" in signals else command
