"""``traindex search``: one query, printed as a table or as the JSON contract."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from traindex.catalog.store import Catalog
from traindex.cli.commands.face_search import run_face_search
from traindex.cli.commands.image_search import portfolio_files, run_image_search
from traindex.cli.commands.nearcopy import similar_result
from traindex.cli.common import console, emit_json, exit_with, settings, user_errors
from traindex.cli.coverage import print_coverage
from traindex.core.matches import SearchResult
from traindex.search.queries import Query, QueryKind
from traindex.search.service import SearchService

__all__ = ["print_result", "register"]


def _query(options: dict[QueryKind, str | None]) -> Query:
    given = [(kind, value) for kind, value in options.items() if value is not None]
    if len(given) != 1:
        exit_with(
            "give exactly one of --url, --url-prefix, --domain, --flickr-photo, "
            "--flickr-user, --text, --sha256, --md5"
        )
    kind, value = given[0]
    assert value is not None
    return Query(kind, value)


def _highlight(caption: str | None, terms: tuple[str, ...]) -> Text:
    text = Text(caption or "")
    for term in terms:
        text.highlight_words([term], style="bold yellow", case_sensitive=False)
    return text


def print_result(result: SearchResult) -> None:
    q = result.query
    shown = len(result.matches)
    title = f"{q['kind']} {q.get('normalised', q['value'])!r}: {result.total:,} match(es)"
    if shown < result.total:
        title += f", showing {q['offset'] + 1}-{q['offset'] + shown}"
    table = Table(title=title, show_lines=False)
    for column in ("dataset/release", "file:row", "url", "caption", "license", "method", "score"):
        table.add_column(column, overflow="fold")
    for m in result.matches:
        table.add_row(
            f"{m.dataset}/{m.release}",
            f"{m.shard}:{m.row}",
            m.url,
            _highlight(m.caption, m.matched_terms),
            m.license or "",
            m.method,
            f"{m.score:g}",
        )
    console.print(table)
    print_coverage(result.coverage)


def search_command(
    ctx: typer.Context,
    url: Annotated[str | None, typer.Option("--url", help="Exact URL (normalised).")] = None,
    url_prefix: Annotated[str | None, typer.Option("--url-prefix", help="URL prefix.")] = None,
    domain: Annotated[
        str | None, typer.Option("--domain", help="Registrable domain, incl. subdomains.")
    ] = None,
    flickr_photo: Annotated[
        str | None, typer.Option("--flickr-photo", help="Flickr photo id or photo URL.")
    ] = None,
    flickr_user: Annotated[
        str | None, typer.Option("--flickr-user", help="Flickr NSID, alias or profile URL.")
    ] = None,
    text: Annotated[
        str | None, typer.Option("--text", help='Caption words; "quoted phrase" for phrases.')
    ] = None,
    sha256: Annotated[
        str | None, typer.Option("--sha256", help="SHA-256 of the original image file (hex).")
    ] = None,
    md5: Annotated[
        str | None, typer.Option("--md5", help="MD5 of the original file (hex).")
    ] = None,
    image: Annotated[
        Path | None, typer.Option("--image", help="An image file: same file or same image.")
    ] = None,
    images: Annotated[
        Path | None, typer.Option("--images", help="A folder of images (a portfolio).")
    ] = None,
    similar: Annotated[
        Path | None, typer.Option("--similar", help="An image file: CLIP neighbours (similar).")
    ] = None,
    similar_text: Annotated[
        str | None, typer.Option("--similar-text", help="Words: images CLIP puts near them.")
    ] = None,
    clip_model: Annotated[
        Path | None, typer.Option("--clip-model", help="CLIP ONNX folder (clip.json).")
    ] = None,
    face: Annotated[
        Path | None,
        typer.Option("--face", help="A photo of exactly one face (yours): same face matches."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Also write the JSON answer to this file.")
    ] = None,
    dataset: Annotated[
        str | None, typer.Option("--dataset", "-d", help="NAME or NAME/RELEASE (default: all).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 20,
    offset: Annotated[int, typer.Option("--offset", min=0)] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON answer.")] = False,
    verify_candidates: Annotated[
        bool,
        typer.Option(
            "--verify-candidates",
            help="With --image/--images and one of --domain, --url-prefix, --flickr-user, "
            "--text: download those rows' images (cached) and keep the ones your files' "
            "pixels prove (same file / same image, with the download as proof).",
        ),
    ] = False,
    max_candidates: Annotated[
        int, typer.Option("--max-candidates", min=1, max=10_000, help="Download at most N.")
    ] = 200,
) -> None:
    """Search by image file(s), face, URL, domain, Flickr photo/account, digest or caption."""
    if face is not None:
        with user_errors():
            run_face_search(
                settings(ctx), face, dataset=dataset, limit=limit, as_json=as_json, out=out
            )
        return
    if image is not None or images is not None:
        candidates = None
        if verify_candidates:
            candidates = _query(
                {"domain": domain, "url_prefix": url_prefix, "flickr_user": flickr_user,
                 "text": text}
            )  # fmt: skip
        with user_errors():
            paths = [image] if image is not None else portfolio_files(images or Path())
            run_image_search(
                settings(ctx), paths, dataset=dataset, limit=limit, as_json=as_json, out=out,
                candidates=candidates, max_candidates=max_candidates,
            )  # fmt: skip
        return
    if similar is not None or similar_text is not None:
        with user_errors():
            result = similar_result(
                settings(ctx),
                similar,
                similar_text,
                clip_model=clip_model,
                dataset=dataset,
                limit=limit,
            )
    else:
        query = _query(
            {
                "url": url,
                "url_prefix": url_prefix,
                "domain": domain,
                "flickr_photo": flickr_photo,
                "flickr_user": flickr_user,
                "text": text,
                "sha256": sha256,
                "md5": md5,
            }
        )
        with user_errors():
            service = SearchService(Catalog(settings(ctx)))
            result = service.search(query, dataset=dataset, limit=limit, offset=offset)
    if not emit_json(result.to_json(), out, as_json):
        print_result(result)


def register(app: typer.Typer) -> None:
    app.command("search")(search_command)
