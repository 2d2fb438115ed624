"""``traindex registry``: the local admin CLI over the home dir's opt-out registry.

A thin adapter over ``traindex.registry.service.RegistryService`` (no server needed): the
operator files claims for owners (``--verified`` when they have checked ownership
themselves), lists them, checks items and writes or verifies signed snapshots.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from traindex.cli.common import (
    console,
    err_console,
    exit_with,
    print_json,
    print_table,
    settings,
    user_errors,
)
from traindex.cli.extras import needs
from traindex.cli.trustopts import AcceptEmbeddedKey, KeyLists, TsaCertificates
from traindex.registry.models import TERMS, Claim, Decision, Owner, Selector, to_json

if TYPE_CHECKING:
    from traindex.registry.service import RegistryService

__all__ = ["register", "registry_service"]

registry_app = typer.Typer(
    help="Opt-out and consent registry: claims, checks, signed snapshots.", no_args_is_help=True
)
_STYLE = {
    "do_not_train": "bold red",
    "license_required": "yellow",
    "attribution_required": "cyan",
    "allowed": "green",
    "unknown": "dim",
}


@contextmanager
def registry_service(ctx: typer.Context) -> Iterator[RegistryService]:
    # Imported here: SQLAlchemy and Alembic load only for registry commands, not at start-up;
    # whichever of the registry extra's modules is missing first, the registry extra is named.
    with needs("registry"):
        from traindex.registry.service import RegistryService

    with user_errors():
        service = RegistryService.open(settings(ctx))
        try:
            yield service
        finally:
            service.close()


def _selector(
    url: str | None,
    prefix: str | None,
    domain: str | None,
    flickr: str | None,
    image: Path | None,
    subdomains: bool,
) -> Selector:
    given = [v for v in (url, prefix, domain, flickr, image) if v is not None]
    if len(given) != 1:
        exit_with("give exactly one of --url, --url-prefix, --domain, --flickr-owner, --image")
    if image is not None:
        try:
            return Selector.for_image(image.read_bytes(), name=str(image))
        except OSError as exc:
            exit_with(f"cannot read {image}: {exc.strerror or exc}")
    if url is not None:
        return Selector("url", url)
    if prefix is not None:
        return Selector("url_prefix", prefix)
    if domain is not None:
        return Selector("domain", domain, include_subdomains=subdomains)
    assert flickr is not None
    return Selector("flickr_owner", flickr)


def register_owner(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Owner (person, agency, site) name.")],
    email: Annotated[str | None, typer.Option("--email")] = None,
) -> None:
    """Register an owner and print its API token (shown once)."""
    with registry_service(ctx) as service:
        owner, token = service.register_owner(name, email)
    print_json({"owner": to_json(owner), "token": token})


def add_claim(
    ctx: typer.Context,
    owner: Annotated[str, typer.Option("--owner", help="Owner name (created if new).")],
    url: Annotated[str | None, typer.Option("--url")] = None,
    url_prefix: Annotated[str | None, typer.Option("--url-prefix")] = None,
    domain: Annotated[str | None, typer.Option("--domain")] = None,
    flickr_owner: Annotated[str | None, typer.Option("--flickr-owner")] = None,
    image: Annotated[Path | None, typer.Option("--image", help="Image file to claim.")] = None,
    terms: Annotated[str, typer.Option("--terms", help=f"One of: {', '.join(TERMS)}.")] = (
        "do_not_train"
    ),
    verified: Annotated[
        bool, typer.Option("--verified", help="Operator vouches for ownership.")
    ] = False,
    subdomains: Annotated[bool, typer.Option("--subdomains/--no-subdomains")] = True,
    contact: Annotated[str | None, typer.Option("--contact", help="Licence contact/price.")] = None,
    expires: Annotated[
        datetime | None, typer.Option("--expires", help="Expiry (ISO date/time, UTC).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """File a claim for an owner (idempotent: the same claim twice is one claim)."""
    selector = _selector(url, url_prefix, domain, flickr_owner, image, subdomains)
    with registry_service(ctx) as service:
        claim = service.add_claim(
            _owner(service, owner),
            selector,
            terms,
            contact=contact,
            expires_at=expires,
            verified=verified,
        )
    if as_json:
        print_json(to_json(claim))
    else:
        console.print(
            f"claim {claim.id}: {claim.selector.kind} {claim.selector.value} "
            f"{claim.terms} ({claim.status})",
            highlight=False,
        )


def _owner(service: RegistryService, name: str) -> Owner:
    account = service.owner_named(name)
    if account is None:
        account, token = service.register_owner(name)
        err_console.print(f"registered owner {name!r}; API token (shown once): {token}")
    return account


def import_declaration(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="TDM·AI declaration: a JSON object or array.")],
    owner: Annotated[str, typer.Option("--owner", help="Owner name (created if new).")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """File content-bound (ISCC) declarations as image claims; signatures kept, not trusted."""
    from traindex.registry.declarations import parse_declarations

    with user_errors():
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            exit_with(f"cannot read {file}: {exc}")
        requests = parse_declarations(text, source=str(file))
    with registry_service(ctx) as service:
        claims = service.add_claims(_owner(service, owner), requests)
    if as_json:
        print_json([to_json(c) for c in claims])
        return
    for claim in claims:
        console.print(
            f"claim {claim.id}: image {claim.selector.value} {claim.terms} ({claim.status})",
            highlight=False,
        )


def export_declarations_command(
    ctx: typer.Context,
    owner: Annotated[str, typer.Option("--owner", help="Whose claims to export.")],
    out: Annotated[Path | None, typer.Option("--out", help="File (default: stdout).")] = None,
) -> None:
    """Write an owner's ISCC image claims as TDM·AI declarations (a JSON array)."""
    from traindex.registry.declarations import export_declarations

    with registry_service(ctx) as service:
        account = service.owner_named(owner)
        if account is None:
            exit_with(f"no owner named {owner!r}")
        declarations = export_declarations(service.list_claims(account))
    if out is None:
        print_json(declarations)
        return
    out.write_text(json.dumps(declarations, ensure_ascii=False, indent=2) + "\n", "utf-8")
    console.print(f"{len(declarations):,} declarations written to {out}", highlight=False)


def _claims_table(claims: list[Claim], owners: dict[str, str]) -> Table:
    table = Table("id", "owner", "kind", "value", "terms", "status", "expires", title="claims")
    for claim in claims:
        expires = claim.expires_at.strftime("%Y-%m-%d") if claim.expires_at else ""
        table.add_row(
            claim.id,
            owners[claim.owner_id],
            claim.selector.kind,
            claim.selector.value,
            claim.terms,
            claim.status,
            expires,
        )
    return table


def list_claims(
    ctx: typer.Context,
    owner: Annotated[str | None, typer.Option("--owner", help="Only this owner's claims.")] = None,
    include_revoked: Annotated[bool, typer.Option("--all", help="Include revoked.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List claims (active ones unless --all)."""
    with registry_service(ctx) as service:
        account = None if owner is None else service.owner_named(owner)
        if owner is not None and account is None:
            exit_with(f"no owner named {owner!r}")
        claims = service.list_claims(account, include_revoked=include_revoked)
        owners = {i: service.owner_by_id(i).name for i in {c.owner_id for c in claims}}
    if as_json:
        print_json({"claims": [to_json(c) | {"owner": owners[c.owner_id]} for c in claims]})
    else:
        print_table(_claims_table(claims, owners))


def _asked(item: str) -> tuple[str, list[str]]:
    """An item as typed and what to check for it: an existing image file becomes its
    digests; URLs and ``kind:HEX`` digests go as given."""
    from traindex.registry.items import parse_item

    path = Path(item)
    if "://" in item or parse_item(item) is not None or not path.is_file():
        return item, [item]
    return _image_asked(path)


def _image_asked(path: Path) -> tuple[str, list[str]]:
    """An image file and its digests (``registry.lookup.image_items``: SHA-256, MD5, PDQ,
    ISCC, made here, so a registry server never receives the image)."""
    from traindex.registry.lookup import image_items

    try:
        return str(path), image_items(path.read_bytes(), name=str(path))
    except OSError as exc:
        exit_with(f"cannot read {path}: {exc.strerror or exc}")


def _decide(
    ctx: typer.Context, asked: list[tuple[str, list[str]]], registry: str | None, counted: bool
) -> list[Decision]:
    from traindex.registry.lookup import merge_decisions

    flat = [item for _, items in asked for item in items]
    if registry is None:
        with registry_service(ctx) as service:
            decisions = service.check(flat, count_unverified=counted)
    else:
        from traindex.registry.client import RegistryClient

        client = RegistryClient(registry)
        try:
            decisions = client.check(flat, count_unverified=counted)
        finally:
            client.close()
    merged, start = [], 0
    for label, items in asked:
        part = decisions[start : start + len(items)]
        start += len(items)
        merged.append(part[0] if items == [label] else merge_decisions(label, part))
    return merged


def check(
    ctx: typer.Context,
    items: Annotated[
        list[str] | None,
        typer.Argument(
            help="URLs, image files, ISCC codes (ISCC:...), sha256:HEX, md5:HEX, pdq:HEX "
            "or iscc:HEX."
        ),
    ] = None,
    images: Annotated[
        list[Path] | None,
        typer.Option(
            "--image",
            help="Image file to check by its fingerprints (repeatable; a file that must "
            "exist, where an item that is not a file would be checked as typed).",
        ),
    ] = None,
    include_unverified: Annotated[
        bool, typer.Option("--include-unverified", help="Let unverified claims count.")
    ] = False,
    registry: Annotated[
        str | None,
        typer.Option("--registry", help="Ask this registry server (URL) instead of the home one."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Decide items against the registry: allowed, do_not_train, license_required, ...

    An image file (an item or --image) is checked by its SHA-256, MD5, PDQ and ISCC (made
    here; the image is never sent), so content-bound (ISCC) declarations answer for it
    too. Only verified claims count unless --include-unverified; unverified ones that
    match are still named in the note (and in --json as unverified_claim_ids)."""
    if not items and not images:
        exit_with("give items to check, or --image FILE")
    with user_errors():
        asked = [_asked(item) for item in items or []]
        asked += [_image_asked(path) for path in images or []]
        decisions = _decide(ctx, asked, registry, include_unverified)
    if as_json:
        print_json({"decisions": [to_json(d) for d in decisions]})
        return
    table = Table("item", "decision", "claims", "verified", "note", title="registry check")
    for d in decisions:
        note = d.error or (
            f"unverified claims not counted: {' '.join(d.unverified_claim_ids)}"
            if d.unverified_claim_ids
            else ""
        )
        table.add_row(
            d.item,
            f"[{_STYLE[d.decision]}]{d.decision}[/]",
            " ".join(d.claim_ids),
            "yes" if d.verified else "no",
            note,
        )
    print_table(table)


def snapshot(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="Directory to write the snapshot to.")],
) -> None:
    """Write every active claim as Parquet + JSONL with an Ed25519-signed manifest."""
    with registry_service(ctx) as service:
        info = service.snapshot(out)
    console.print(
        f"snapshot of {info.claim_count:,} claims in {out} "
        f"(signed by key {info.key_fingerprint}; public key {info.manifest['public_key']})",
        highlight=False,
    )


def verify_snapshot_command(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Snapshot directory.")],
    pubkey: Annotated[
        str | None, typer.Option("--pubkey", help="Trusted public key: 64 hex or a file.")
    ] = None,
    keys: KeyLists = None,
    tsa_cert: TsaCertificates = None,
    accept_embedded_key: AcceptEmbeddedKey = False,
) -> None:
    """Check a snapshot's files, signature, hashes, counts and timestamp, and whether its key
    is trusted (--pubkey, this home's key list, trusted_keys, --keys); exit 1 if not."""
    from traindex.core.timestamps import MACHINE_CLOCK, load_tsa_certificates
    from traindex.core.trust import TrustedKeys
    from traindex.registry.snapshot import verify_snapshot

    config = settings(ctx)
    with user_errors():
        certs = load_tsa_certificates([*config.tsa_certificates, *(tsa_cert or [])])
        info = verify_snapshot(
            path,
            pubkey,
            trusted=TrustedKeys.load(config, keys or []),
            accept_embedded_key=accept_embedded_key,
            tsa_certificates=certs,
        )
    assert info.trust is not None
    console.print(
        f"intact: {info.claim_count:,} claims, signed by key {info.key_fingerprint} — "
        f"{info.trust.source}; created {info.manifest['created_at']}; time: "
        f"{info.timestamp.describe() if info.timestamp else MACHINE_CLOCK}",
        highlight=False,
        soft_wrap=True,
    )
    if not info.trust.trusted:
        exit_with("NOT TRUSTED: pass --pubkey, --keys or --accept-embedded-key", code=1)
    console.print("OK", highlight=False)


def register(app: typer.Typer) -> None:
    registry_app.command("register-owner")(register_owner)
    registry_app.command("add-claim")(add_claim)
    registry_app.command("list")(list_claims)
    registry_app.command("check")(check)
    registry_app.command("import-declaration")(import_declaration)
    registry_app.command("export-declarations")(export_declarations_command)
    registry_app.command("snapshot")(snapshot)
    registry_app.command("verify-snapshot")(verify_snapshot_command)
    from traindex.cli.commands.review import grant_operator, review_app

    registry_app.command("grant-operator")(grant_operator)
    registry_app.add_typer(review_app, name="review")
    app.add_typer(registry_app, name="registry")
