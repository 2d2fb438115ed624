"""Regenerate docs/screenshots/*.png: the demo catalog, served on loopback, in headless Chromium.

Run ``python scripts/screenshots.py`` (``make screenshots``). Builds the demo catalog in a
temporary home (the demo's photos and, when present, ../shared/data), so the pictures in
the README always show the current templates against real rows.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from tempfile import TemporaryDirectory

from rich.console import Console

from traindex.config import Settings
from traindex.demo import build_demo, demo_images, find_shared_data
from traindex.server.app import create_app
from traindex.server.running import serve_in_thread

# the browser tests' Chromium driver: test tooling, so it lives beside them, not in the package
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "browser"))
from driver import chromium, new_context, screenshot_tour

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    console = Console()
    with TemporaryDirectory(prefix="traindex-shots-") as home:
        settings = Settings(home=Path(home), web_page_size=10)
        with console.status("building the demo catalog"):
            build_demo(settings, find_shared_data())
        photo = demo_images(settings) / "china.jpg"
        with serve_in_thread(create_app(settings)) as url, chromium() as browser:
            for path in screenshot_tour(new_context(browser), url, args.out, photo):
                console.print(f"wrote {path}")


if __name__ == "__main__":
    main()
