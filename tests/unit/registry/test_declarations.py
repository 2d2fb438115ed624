"""TDM·AI declarations: parsing (valid, malformed), import as ISCC image claims on SQLite
and PostgreSQL, ``iscc:`` checks within the measured radius, export -> import round trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import inspect
from typer.testing import CliRunner

from traindex.cli.main import app
from traindex.config import Settings
from traindex.errors import InputError
from traindex.fingerprint.iscc import DEFAULT_ISCC_RADIUS, iscc_from_body
from traindex.registry import store
from traindex.registry.declarations import export_declarations, parse_declarations
from traindex.registry.service import RegistryService
from traindex.registry.snapshot import load_snapshot_index
from traindex.registry.store import migrate, open_engine

BODY = "c3a1f00d5e6b7a29"
CODE = iscc_from_body(BODY)
SIGNED = {
    "iscc": CODE,
    "all": "true",
    "train-genai": "false",
    "intent": "activate",
    "signature": {"version": "ISCC-SIG v1.0", "pubkey": "z6Mk...", "proof": "z3x..."},
}


def _flip(body: str, bits: int) -> str:
    return f"{int(body, 16) ^ ((1 << bits) - 1):016x}"


def test_a_declaration_becomes_a_do_not_train_iscc_claim() -> None:
    [request] = parse_declarations(json.dumps(SIGNED))
    assert (request.selector.kind, request.selector.iscc, request.terms) == (
        "image", BODY, "do_not_train",
    )  # fmt: skip
    assert json.loads(request.declaration or "") == SIGNED  # signature kept as given


@pytest.mark.parametrize(
    ("declaration", "field"),
    [
        ({"train-ai": "false"}, "'iscc' is required"),
        ({"iscc": "ISCC:not-a-code", "all": "false"}, "field 'iscc'"),
        ({"iscc": "ISCC:AAAYAAAAAAAAAAAA", "all": "false"}, "no Image-Code unit"),
        ({"iscc": CODE, "train-ai": "maybe"}, "field 'train-ai'"),
        ({"iscc": CODE, "all": 0}, "field 'all'"),
        ({"iscc": CODE, "all": "true"}, "no training reservation"),
        ({"iscc": CODE, "search": "false"}, "no training reservation"),
        ({"iscc": CODE, "all": "false", "train-ai": "true", "train-genai": "true"}, "no train"),
    ],
)
def test_malformed_declarations_name_the_field(declaration: dict[str, object], field: str) -> None:
    text = json.dumps([SIGNED, declaration])
    with pytest.raises(InputError, match=field) as caught:
        parse_declarations(text, source="decl.json")
    assert "decl.json: declaration 1" in str(caught.value)


def test_not_json_and_empty_files_are_refused() -> None:
    with pytest.raises(InputError, match="not JSON"):
        parse_declarations("{", source="x.json")
    with pytest.raises(InputError, match="no declarations"):
        parse_declarations("[]", source="x.json")


@given(
    st.dictionaries(st.sampled_from(["all", "train-ai", "train-genai"]), st.booleans(), min_size=1)
)
def test_inheritance_follows_the_spec(stated: dict[str, bool]) -> None:
    """train-ai inherits from all, train-genai from train-ai: a claim is filed exactly when
    one of the two training keys ends up false."""
    train_ai = stated.get("train-ai", stated.get("all"))
    genai = stated.get("train-genai", train_ai)
    declaration = {"iscc": CODE, **{k: str(v).lower() for k, v in stated.items()}}
    if train_ai is False or genai is False:
        assert len(parse_declarations(json.dumps(declaration))) == 1
    else:
        with pytest.raises(InputError, match="no training reservation"):
            parse_declarations(json.dumps(declaration))


def test_imported_claims_match_iscc_items_within_the_radius(service: RegistryService) -> None:
    owner, _ = service.register_owner("Studio")
    [claim] = service.add_claims(owner, parse_declarations(json.dumps(SIGNED)))
    assert (claim.status, claim.selector.value) == ("unverified", f"iscc:{BODY}")
    assert json.loads(claim.declaration or "") == SIGNED
    near, far = _flip(BODY, DEFAULT_ISCC_RADIUS), _flip(BODY, DEFAULT_ISCC_RADIUS + 1)
    items = [f"iscc:{BODY}", f"iscc:{near}", f"iscc:{far}", "iscc:xyz"]
    decisions = service.check(items, count_unverified=True)
    assert [d.decision for d in decisions] == ["do_not_train", "do_not_train", "unknown", "unknown"]
    assert decisions[0].claim_ids == (claim.id,)
    assert decisions[3].error is not None
    unverified = service.check(items[:1])  # unverified claims count only when asked
    assert unverified[0].unverified_claim_ids == (claim.id,)


def test_export_then_import_is_the_same_claim(service: RegistryService) -> None:
    owner, _ = service.register_owner("Studio")
    plain = {"iscc": iscc_from_body(_flip(BODY, 3)), "train-ai": "false"}
    first = service.add_claims(owner, parse_declarations(json.dumps([SIGNED, plain])))
    exported = export_declarations(service.list_claims(owner))
    assert exported == [SIGNED, plain]
    again = service.add_claims(owner, parse_declarations(json.dumps(exported)))
    assert [c.id for c in again] == [c.id for c in first]
    service.revoke_claim(owner, first[0].id)
    assert export_declarations(service.list_claims(owner, include_revoked=True)) == [plain]


def test_cli_import_and_export(tmp_path: Path, settings: Settings) -> None:
    runner = CliRunner()
    source = tmp_path / "decl.json"
    source.write_text(json.dumps(SIGNED))
    home = ["--home", str(settings.home)]
    done = runner.invoke(app, [*home, "registry", "import-declaration", str(source),
                               "--owner", "Studio"])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert f"image iscc:{BODY} do_not_train" in " ".join(done.output.split())
    out = tmp_path / "out.json"
    done = runner.invoke(app, [*home, "registry", "export-declarations", "--owner", "Studio",
                               "--out", str(out)])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert json.loads(out.read_text()) == [SIGNED]
    source.write_text(json.dumps({"iscc": CODE, "train-ai": "perhaps"}))
    bad = runner.invoke(app, [*home, "registry", "import-declaration", str(source),
                              "--owner", "Studio"])  # fmt: skip
    assert bad.exit_code != 0
    assert "field 'train-ai'" in bad.output


def test_snapshots_carry_the_iscc(service: RegistryService, tmp_path: Path) -> None:
    owner, _ = service.register_owner("Studio")
    service.add_claims(owner, parse_declarations(json.dumps(SIGNED)), verified=True)
    info = service.snapshot(tmp_path / "snap")
    _, index = load_snapshot_index(tmp_path / "snap", info.manifest["public_key"])
    assert index.match_hashes("iscc", [_flip(BODY, 2), _flip(BODY, 20)])[1] == ()
    assert len(index.match_hashes("iscc", [_flip(BODY, 2)])[0]) == 1


def test_a_database_from_before_revision_0002_gains_the_columns(settings: Settings) -> None:
    """An old registry (tables without ``iscc``/``declaration``) is upgraded in place."""
    path = settings.home / "old.sqlite"
    engine = open_engine(path)
    config = Config()
    config.set_main_option("script_location", str(Path(store.__file__).parent / "migrations"))
    with engine.connect() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
        for column in ("iscc", "declaration"):
            conn.exec_driver_sql(f"ALTER TABLE claims DROP COLUMN {column}")
        conn.commit()
    migrate(engine)
    columns = {c["name"] for c in inspect(engine).get_columns("claims")}
    assert {"iscc", "declaration"} <= columns
    engine.dispose()
