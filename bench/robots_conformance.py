"""robots.txt parser choice by measurement: robotspy, protego, and traindex (protego + RFC groups).

Case sets (each case: robots.txt text, product token, URL, expected verdict):

- ``rfc``: RFC 9309's own examples (§2.2.1-§2.2.4, §5.1, §5.2) and the issue's five classes
  (text after the product token, ``%2A``/``%24``, bare CR, ``//folder/*``, ``/robots.txt``),
  from ``tests/unit/signals/data/rfc9309_cases.json``;
- ``google``: Google's 140 conformance vectors and the 18 AI-crawler vectors
  (``<shared>/data/optout-signals``);
- ``--corpus DIR`` (optional): a directory of real robots.txt files. There is no ground truth
  there, so it reports how many (file, token, URL) verdicts each parser gives differently from
  traindex, how many files have ``user-agent`` values with text after the product token, and
  the cost per verdict of each parser on the first 300 files (parsed once, as the cache does).

Usage: ``PYTHONPATH=src python bench/robots_conformance.py [--corpus DIR]``.
Prints a table and writes ``bench/out/robots_conformance.json``.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections.abc import Callable, Iterable
from importlib.metadata import version
from pathlib import Path
from typing import Any

from protego import Protego
from robots import RobotsParser

from _common import emit
from traindex.signals.crawlers import default_agents
from traindex.signals.rep import parse_rep
from traindex.signals.robots import match_token

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "tests" / "unit" / "signals" / "data" / "rfc9309_cases.json"
SHARED = Path("/work/shared/data/optout-signals")
CORPUS_PATHS = ("/", "/images/photo.jpg", "/wp-content/uploads/a.png", "/search?q=x")
_UA_WITH_TAIL = re.compile(r"^\s*user-agent\s*:\s*[A-Za-z_-]+[^A-Za-z_\-\s#*]", re.I | re.M)

Query = Callable[[str, str], bool]
Parser = Callable[[str], Query]


def robotspy(text: str) -> Query:
    parsed = RobotsParser.from_string(text)
    return lambda agent, url: bool(parsed.can_fetch(agent, url))


def protego(text: str) -> Query:
    parsed = Protego.parse(text)
    return lambda agent, url: bool(parsed.can_fetch(url, agent))


def traindex(text: str) -> Query:
    parsed = parse_rep(text)
    return lambda agent, url: parsed.allowed(match_token(agent), url)


PARSERS: dict[str, Parser] = {"robotspy": robotspy, "protego": protego, "traindex": traindex}


def _safe(query: Query, agent: str, url: str) -> bool | None:
    try:
        return query(agent, url)
    except Exception:  # a parser crash counts as a miss (or a difference), not a bench failure
        return None


def _case(parser: Parser, case: dict[str, Any]) -> bool | None:
    return _safe(parser(case["robotstxt"]), case["user_agent"], case["url"])


def score(cases: list[dict[str, Any]]) -> dict[str, Any]:
    """Passes per parser and, for each, the cases it misses (source + token + URL)."""
    out: dict[str, Any] = {}
    for name, parser in PARSERS.items():
        missed = [c for c in cases if _case(parser, c) is not c["allowed"]]
        out[name] = {
            "pass": len(cases) - len(missed),
            "missed": [
                f"{c.get('source') or c.get('test') or c.get('desc')}: {c['user_agent']} {c['url']}"
                for c in missed
            ],
        }
    return out


def case_sets() -> dict[str, list[dict[str, Any]]]:
    local = json.loads(CASES.read_text())
    sets = {
        "RFC 9309 examples": local["rfc9309_examples"],
        "issue 15 classes": local["issue15_classes"],
    }
    if SHARED.is_dir():
        sets["Google vectors"] = json.loads((SHARED / "google_robotstxt_vectors.json").read_text())
        sets["AI-crawler vectors"] = json.loads(
            (SHARED / "ai_crawler_robotstxt_vectors.json").read_text()
        )
    return sets


def corpus(files: Iterable[Path]) -> dict[str, Any]:
    """Disagreements with traindex over real files for the default AI tokens."""
    agents = default_agents()
    flips = {name: 0 for name in PARSERS if name != "traindex"}
    flip_files = dict.fromkeys(flips, 0)
    total = tail_files = n_files = 0
    for path in files:
        text = path.read_bytes().decode("utf-8", errors="replace")
        n_files += 1
        tail_files += bool(_UA_WITH_TAIL.search(text))
        changed = dict.fromkeys(flips, False)
        mine = traindex(text)
        others = {name: PARSERS[name](text) for name in flips}
        for agent in agents:
            for url_path in CORPUS_PATHS:
                url = "https://example.org" + url_path
                total += 1
                verdict = mine(agent, url)
                for name, query in others.items():
                    if _safe(query, agent, url) is not verdict:
                        flips[name] += 1
                        changed[name] = True
        for name, hit in changed.items():
            flip_files[name] += hit
    return {
        "files": n_files,
        "verdicts": total,
        "files_with_ua_tail": tail_files,
        "verdicts_differing_from_traindex": flips,
        "files_differing": flip_files,
    }


def timing(texts: list[str], rounds: int = 3) -> dict[str, float]:
    """Microseconds per verdict (parse once per file, then every default token x path),
    best of ``rounds``: the cost a bulk check pays per URL once the file is cached."""
    agents = default_agents()
    urls = ["https://example.org" + p for p in CORPUS_PATHS]
    out = {}
    for name, parser in PARSERS.items():
        queries = [parser(text) for text in texts]
        best = float("inf")
        for _ in range(rounds):
            started = time.perf_counter()
            for query in queries:
                for agent in agents:
                    for url in urls:
                        _safe(query, agent, url)
            best = min(best, time.perf_counter() - started)
        out[name] = best / (len(texts) * len(agents) * len(urls)) * 1e6
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, help="directory of real robots.txt files")
    args = parser.parse_args()
    results = {name: score(cases) for name, cases in case_sets().items()}
    rows = [
        {"case set": name, "cases": len(cases)} | {p: res[p]["pass"] for p in PARSERS}
        for (name, cases), res in zip(case_sets().items(), results.values(), strict=True)
    ]
    meta: dict[str, Any] = {
        "versions": {"robotspy": version("robotspy"), "protego": version("protego")},
        "missed": results,
    }
    if args.corpus is not None:
        files = sorted(p for p in args.corpus.iterdir() if p.is_file())
        meta["corpus"] = corpus(files)
        texts = [p.read_bytes().decode("utf-8", errors="replace") for p in files[:300]]
        meta["corpus"]["us_per_verdict_first_300_files"] = timing(texts)
        print(json.dumps(meta["corpus"], indent=1))
    path = emit("robots_conformance", "robots.txt conformance (cases passed)", rows, meta)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
