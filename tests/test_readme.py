"""The README's two promised commands exist and are what CI runs."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _targets() -> set[str]:
    makefile = (REPO / "Makefile").read_text()
    return set(re.findall(r"^([a-z][a-z-]*):", makefile, flags=re.MULTILINE))


def test_readme_shows_demo_and_test_commands() -> None:
    readme = (REPO / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", readme, flags=re.DOTALL)
    first_lines = [b.strip().splitlines()[0].split("#")[0].strip() for b in blocks if b.strip()]
    assert "make demo" in first_lines
    assert "make test" in first_lines
    assert {"demo", "test"} <= _targets()


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, flags=re.MULTILINE)
    assert "TRAINDEX_REQUIRE_SHARED=1" in ci


def test_demo_target_runs_the_demo_command() -> None:
    makefile = (REPO / "Makefile").read_text()
    recipe = makefile.split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    assert "traindex" in recipe
    assert " demo" in recipe
