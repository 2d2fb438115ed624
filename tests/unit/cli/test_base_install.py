"""Without extras the CLI still runs its base commands, and names the extra for the rest.

A subprocess blocks every extra's modules (an import of one raises ``ModuleNotFoundError``,
as in a venv with ``pip install traindex`` alone) and runs the real CLI through Typer's
runner; a base command that imported Pillow, PDQ, faiss, OpenCV, httpx, FastAPI and the like
would fail here. ``scripts/base-install-check.sh`` does the same in a real fresh venv.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from traindex.cli.extras import EXTRA_OF_MODULE

_RUNNER = textwrap.dedent(
    """
    import json, sys
    from importlib.abc import MetaPathFinder

    BLOCKED = set(json.loads(sys.argv[1]))

    class Block(MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, Block())

    # Guarded: ingest's caption indexer is a spawned process, which imports this script
    # again; unguarded, the child would run every command a second time.
    if __name__ == "__main__":
        from typer.testing import CliRunner
        from traindex.cli.main import app

        runner = CliRunner()
        results = []
        for args in json.loads(sys.argv[2]):
            r = runner.invoke(app, args)
            results.append({"code": r.exit_code, "output": r.output, "error": repr(r.exception)})
        loaded = sorted({m.split(".")[0] for m in sys.modules} & BLOCKED)
        print()
        print(json.dumps({"results": results, "loaded": loaded}))
    """
)


def _run(tmp_path: Path, commands: list[list[str]]) -> list[dict[str, object]]:
    script = tmp_path / "run.py"
    script.write_text(_RUNNER)
    proc = subprocess.run(
        [sys.executable, str(script), json.dumps(sorted(EXTRA_OF_MODULE)), json.dumps(commands)],
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(proc.stdout.splitlines()[-1])
    assert data["loaded"] == []
    return data["results"]  # type: ignore[no-any-return]


def _release(tmp_path: Path) -> Path:
    path = tmp_path / "part-0.parquet"
    pq.write_table(
        pa.table(
            {
                "SAMPLE_ID": [1, 2],
                "URL": [
                    "http://farm1.staticflickr.com/1/123_abc.jpg",
                    "https://example.com/a/b.jpg",
                ],
                "TEXT": ["a kitten on a sofa", "a red bicycle"],
                "WIDTH": [10, 20],
                "HEIGHT": [10, 20],
                "LICENSE": ["?", "?"],
                "NSFW": ["UNLIKELY", "UNLIKELY"],
                "similarity": [0.3, 0.4],
            }
        ),
        path,
    )
    return path


def test_base_commands_run_without_any_extra(tmp_path: Path) -> None:
    home = ["--home", str(tmp_path / "home")]
    commands = [
        ["--help"],
        ["--version"],
        [*home, "ingest", str(_release(tmp_path)), "-d", "tiny", "--format", "laion"],
        [*home, "datasets", "--json"],
        [*home, "search", "--url", "http://farm1.staticflickr.com/1/123_abc.jpg", "--json"],
        [*home, "search", "--domain", "example.com", "--json"],
        [*home, "search", "--flickr-photo", "123", "--json"],
        [*home, "search", "--text", "kitten", "--json"],
        [*home, "search", "--help"],
        [*home, "watch", "add", "--domain", "example.com"],
        [*home, "watch", "alerts", "--json"],
    ]
    results = _run(tmp_path, commands)
    for args, result in zip(commands, results, strict=True):
        assert result["code"] == 0, (args, result)
    assert "traindex 0.1.0" in str(results[1]["output"])
    searches = [json.loads(str(r["output"])) for r in results[4:8]]
    assert [s["total"] for s in searches] == [1, 1, 1, 1]
    [alert] = json.loads(str(results[-1]["output"]))["alerts"]  # key watches need no extra
    assert alert["match"]["url"] == "https://example.com/a/b.jpg"


def test_commands_that_need_an_extra_name_it_in_one_line(tmp_path: Path) -> None:
    home = ["--home", str(tmp_path / "home")]
    image = tmp_path / "photo.jpg"
    image.write_bytes(b"not decoded: the extra is missing first")
    commands = {
        "images": [*home, "search", "--image", str(image)],
        "signals": [*home, "check", "http://127.0.0.1:9/"],
        "registry": [*home, "registry", "list"],
        "web": [*home, "serve"],
        "evidence": [*home, "keys", "show"],
        "demo": [*home, "demo"],
    }
    results = _run(tmp_path, list(commands.values()))
    for extra, result in zip(commands, results, strict=True):
        output = str(result["output"])
        assert result["code"] == 2, (extra, result)
        assert f"pip install 'traindex[{extra}]'" in output, output
        assert "Traceback" not in output
        assert len(output.strip().splitlines()) == 1, output
