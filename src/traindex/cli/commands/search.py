"""``traindex search``: one query, printed as a table or as the JSON contract."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from traindex.cli.commands.face_search import run_face_search
from traindex.cli.commands.image_search import Verification, portfolio_files, run_image_search
from traindex.cli.commands.iscc_search import run_iscc_search
from traindex.cli.commands.nearcopy import similar_result, with_clip
from traindex.cli.common import (
    console,
    emit_json,
    exit_with,
    print_table,
    services,
    user_errors,
)
from traindex.cli.coverage import print_coverage
from traindex.config import Settings
from traindex.core.match_evidence import UrlFormEvidence
from traindex.core.matches import Match, SearchResult
from traindex.search.queries import Query, QueryKind

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


def _candidate_query(
    selectors: dict[QueryKind, str | None], clip_model: Path | None, config: Settings
) -> Query | None:
    """The metadata query that picks candidates, or ``None`` for CLIP neighbours."""
    if any(value is not None for value in selectors.values()):
        if clip_model is not None:
            exit_with("--verify-candidates takes one metadata selector or --clip-model, not both")
        return _query(selectors)
    if config.clip_model_dir is None:
        exit_with(
            "--verify-candidates needs candidates: one of --domain, --url-prefix, "
            "--flickr-user, --text, or --clip-model DIR (CLIP neighbours by the release's "
            "published embeddings)"
        )
    return None


def _highlight(caption: str | None, terms: tuple[str, ...]) -> Text:
    text = Text(caption or "")
    for term in terms:
        text.highlight_words([term], style="bold yellow", case_sensitive=False)
    return text


def _method(match: Match) -> str:
    """The method, and for a URL match found under the other scheme, which one it was."""
    form = match.evidence
    if isinstance(form, UrlFormEvidence) and form.matched_url_form == "other_scheme":
        return f"{match.method} (as {match.url.split(':', 1)[0]})"
    return match.method


def _nothing_found(query: dict[str, Any]) -> str:
    searched = query.get("searched", [])
    asked = f"{query['kind']} {query.get('normalised', query['value'])!r}"
    if query.get("also_searched"):
        asked += f" (and {query['also_searched']!r})"
    if not searched:
        return f"nothing searched for {asked}: no dataset is ingested (traindex ingest PATH)"
    names = ", ".join(f"{r['dataset']}/{r['release']}" for r in searched)
    rows = sum(int(r["rows"]) for r in searched)
    compared = sum(int(r.get("rows_searched", r["rows"])) for r in searched)
    if compared < rows:  # catalog shards a fanned-out look-up did not reach: see coverage
        return (
            f"nothing found among the rows searched: no row of {names} ({compared:,} of "
            f"{rows:,} rows searched) matches {asked}"
        )
    return f"nothing found: no row of {names} ({rows:,} rows searched) matches {asked}"


def print_result(result: SearchResult) -> None:
    q = result.query
    if not result.matches:
        console.print(_nothing_found(q), highlight=False, soft_wrap=True)
        print_coverage(result.coverage)
        return
    shown = len(result.matches)
    title = f"{q['kind']} {q.get('normalised', q['value'])!r}: {result.total:,} match(es)"
    if q.get("also_searched"):
        title += f" (also searched {q['also_searched']!r})"
    if shown < result.total:
        title += f", showing {q['offset'] + 1}-{q['offset'] + shown}"
    table = Table(
        "dataset/release", "file:row", "url", "caption", "license", "method", "score",
        title=title,
    )  # fmt: skip
    for m in result.matches:
        table.add_row(
            f"{m.dataset}/{m.release}",
            f"{m.shard}:{m.row}",
            m.url,
            _highlight(m.caption, m.matched_terms),
            m.license or "",
            _method(m),
            f"{m.score:g}",
        )
    print_table(table)
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
        str | None,
        typer.Option(
            "--text",
            help='Caption words, all required; "quoted phrase"; a OR b for either.',
        ),
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
    iscc: Annotated[
        list[str] | None,
        typer.Option(
            "--iscc", help="An ISCC code (Image-Code or ISCC-CODE; repeatable): same image."
        ),
    ] = None,
    declaration: Annotated[
        Path | None,
        typer.Option("--declaration", help="A TDM·AI declaration file: its ISCC code(s)."),
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
    ray_address: Annotated[
        str | None,
        typer.Option(
            "--ray-address",
            help="Search releases placed on this Ray cluster (traindex place-index) where "
            "their catalog and index shards are held: every query kind.",
        ),
    ] = None,
    verify_candidates: Annotated[
        bool,
        typer.Option(
            "--verify-candidates",
            help="With --image/--images and one of --domain, --url-prefix, --flickr-user, "
            "--text (or --clip-model: each file's nearest rows by the release's published "
            "CLIP embeddings): download those rows' images (cached) and keep the ones your "
            "files' pixels prove (same file / same image, with the download as proof).",
        ),
    ] = False,
    max_candidates: Annotated[
        int, typer.Option("--max-candidates", min=1, max=10_000, help="Download at most N.")
    ] = 200,
    per_image: Annotated[
        int,
        typer.Option(
            "--candidates-per-image",
            min=1,
            max=1_000,
            help="With --verify-candidates --clip-model: each file's K nearest rows.",
        ),
    ] = 20,
    tsa: Annotated[
        str | None,
        typer.Option(
            "--tsa",
            help="With --verify-candidates: RFC 3161 timestamp authority URL that stamps "
            "each download proof (or the tsa_url setting).",
        ),
    ] = None,
) -> None:
    """Search by image file(s), face, ISCC, URL, domain, Flickr photo/account, digest or
    caption."""
    if tsa is not None and not verify_candidates:
        exit_with("--tsa stamps download proofs: use it with --verify-candidates")
    run = services(ctx)
    if ray_address is not None:  # every search reads it from the settings
        run = run.with_settings(search_ray_address=ray_address)
    if iscc or declaration is not None:
        with user_errors():
            run_iscc_search(
                run, iscc or [], declaration, dataset=dataset, limit=limit,
                offset=offset, as_json=as_json, out=out,
            )  # fmt: skip
        return
    if face is not None:
        with user_errors():
            run_face_search(run, face, dataset=dataset, limit=limit, as_json=as_json, out=out)
        return
    if image is not None or images is not None:
        run = with_clip(run, clip_model)
        verification = None
        if verify_candidates:
            selectors: dict[QueryKind, str | None] = {
                "domain": domain, "url_prefix": url_prefix, "flickr_user": flickr_user,
                "text": text,
            }  # fmt: skip
            query = _candidate_query(selectors, clip_model, run.settings)
            verification = Verification(query, per_image=per_image, cap=max_candidates)
        if tsa is not None:
            run = run.with_settings(tsa_url=tsa)
        with user_errors():
            paths = [image] if image is not None else portfolio_files(images or Path())
            run_image_search(
                run, paths, dataset=dataset, limit=limit, as_json=as_json, out=out,
                verification=verification,
            )  # fmt: skip
        return
    if similar is not None or similar_text is not None:
        with user_errors():
            result = similar_result(
                run,
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
            result = run.search.search(query, dataset=dataset, limit=limit, offset=offset)
    if not emit_json(result.to_json(), out, as_json):
        print_result(result)


def register(app: typer.Typer) -> None:
    app.command("search")(search_command)
