"""Which pip extra provides a missing module, and a root command that says so in one line.

``pip install traindex`` (no extras) runs ingest, ``datasets`` and URL / domain / Flickr /
caption search; everything else needs an extra (pyproject.toml). Command modules import
extra-only libraries inside the command, so a missing one surfaces as
``ModuleNotFoundError`` when that command runs; ``ExtrasGroup`` turns it into
"this command needs the images extra: pip install 'traindex[images]'" and exit code 2,
instead of a traceback. A module that is not an extra's (a bug, or a broken install)
still raises: hiding it would hide the cause.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from typer import _click  # Typer 0.29 ships its own click; TyperGroup.invoke takes its Context
from typer.core import TyperGroup

from traindex.cli.common import exit_with
from traindex.errors import TraindexError

__all__ = ["EXTRA_OF_MODULE", "ExtrasGroup", "MissingExtraError", "needs", "require"]

# Top-level module -> the extra that installs it. Where several extras carry a module,
# the one named is the extra of the commands that import it first (images for faiss,
# evidence for jinja2 and cryptography, signals for httpx).
EXTRA_OF_MODULE: dict[str, str] = {
    "PIL": "images",
    "pdqhash": "images",
    "faiss": "images",
    "cv2": "images",
    "pillow_heif": "images",
    "iscc_core": "images",
    "httpx": "signals",
    "protego": "signals",
    "http_sf": "signals",
    "c2pa": "signals",
    "defusedxml": "signals",
    "sniffio": "signals",
    "fastapi": "web",
    "starlette": "web",
    "uvicorn": "web",
    "multipart": "web",
    "python_multipart": "web",
    "itsdangerous": "web",
    "swagger_ui_bundle": "web",
    "sqlalchemy": "registry",
    "alembic": "registry",
    "argon2": "registry",
    "dns": "registry",
    "psycopg": "registry",
    "weasyprint": "evidence",
    "pyhanko": "evidence",
    "asn1crypto": "evidence",
    "cryptography": "evidence",
    "jinja2": "evidence",
    "dlib": "faces",
    "face_recognition_models": "faces",
    "onnxruntime": "clip",
    "ray": "ray",
    "skimage": "demo",
    "sklearn": "demo",
}


class MissingExtraError(TraindexError):
    """A command ran without the pip extra it needs; the message says how to install it."""

    def __init__(self, extra: str, module: str) -> None:
        self.extra = extra
        self.module = module
        super().__init__(
            f"this command needs the {extra} extra (module {module!r} is not installed): "
            f"pip install 'traindex[{extra}]' (or 'traindex[all]' for everything)"
        )


def _top_module(exc: ModuleNotFoundError) -> str | None:
    """The missing top-level module if an extra provides it, else ``None``."""
    top = (exc.name or "").split(".")[0]
    return top if top in EXTRA_OF_MODULE else None


@contextmanager
def needs(extra: str) -> Iterator[None]:
    """Imports in this block belong to ``extra``: a missing one names that extra.

    The command knows its extra better than the module map does (``faces`` also needs
    Pillow, which the map files under ``images``).
    """
    try:
        yield
    except ModuleNotFoundError as exc:
        module = _top_module(exc)
        if module is None:
            raise
        raise MissingExtraError(extra, module) from None


def require(extra: str, *modules: str) -> None:
    """Fail now, naming ``extra``, if any of ``modules`` is not installed.

    For libraries that load later and elsewhere (dlib in worker processes), where a missing
    one would otherwise surface as a worker's traceback.
    """
    for module in modules:
        if importlib.util.find_spec(module) is None:
            raise MissingExtraError(extra, module)


class ExtrasGroup(TyperGroup):
    """The root command: a missing extra ends in one line and exit code 2."""

    def invoke(self, ctx: _click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ModuleNotFoundError as exc:
            module = _top_module(exc)
            if module is None:
                raise
            error = MissingExtraError(EXTRA_OF_MODULE[module], module)
        except MissingExtraError as exc:
            error = exc
        exit_with(str(error))
