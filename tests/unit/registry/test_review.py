"""The review queue: image claims wait for an operator, who approves or rejects (audited);
through the service (SQLite and PostgreSQL) and through the real Typer app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect
from typer.testing import CliRunner

from traindex.cli.main import app
from traindex.config import Settings
from traindex.registry import store
from traindex.registry.errors import ClaimRejected, PermissionDenied
from traindex.registry.models import Selector
from traindex.registry.service import RegistryService

IMAGES = "conceptual-12m/images"


def _image(shared: Path, number: int = 1) -> bytes:
    return (shared / IMAGES / f"cc12m_{number}.jpg").read_bytes()


def _audit(service: RegistryService, action: str) -> list[tuple[str, str | None, str]]:
    return [
        (e.outcome, e.actor, e.detail)
        for e in reversed(service.store.audit_entries())
        if e.action == action
    ]


def test_image_claim_waits_for_review_and_approval_makes_it_count(
    service: RegistryService, shared_data: Path
) -> None:
    owner, _ = service.register_owner("photographer")
    claim = service.add_claim(owner, Selector.for_image(_image(shared_data)))
    assert claim.status == "unverified"
    [queued] = service.review_queue()
    assert (queued.review.claim_id, queued.owner, queued.kind) == (
        claim.id,
        "photographer",
        "image",
    )
    assert service.get_claim(claim.id).review == queued.review  # the owner sees it
    item = f"sha256:{claim.selector.sha256}"
    assert service.check([item])[0].decision == "unknown"

    approved = service.decide_review(None, claim.id, approve=True, reason="saw the RAW file")

    assert approved.status == "verified"
    assert approved.review is not None
    assert approved.review.status == "approved"
    assert approved.review.reason == "saw the RAW file"
    assert service.check([item])[0].decision == "do_not_train"
    assert service.review_queue() == []
    assert [q.review.status for q in service.review_queue(None)] == ["approved"]
    assert _audit(service, "approve_claim")[0][:2] == ("ok", "operator")
    with pytest.raises(ClaimRejected, match="no pending review"):
        service.decide_review(None, claim.id, approve=False, reason="twice")


def test_rejection_needs_a_reason_and_then_counts_nowhere(
    service: RegistryService, shared_data: Path
) -> None:
    owner, _ = service.register_owner("claimant")
    claim = service.add_claim(owner, Selector.for_image(_image(shared_data)))
    with pytest.raises(ClaimRejected, match="needs a reason"):
        service.decide_review(None, claim.id, approve=False, reason="  ")
    assert _audit(service, "reject_claim") == [("denied", "operator", _audit_reason())]

    rejected = service.decide_review(None, claim.id, approve=False, reason="stock photo by X")

    assert rejected.status == "rejected"
    assert rejected.review is not None
    assert rejected.review.reason == "stock photo by X"
    decision = service.check([f"sha256:{claim.selector.sha256}"], count_unverified=True)[0]
    assert (decision.decision, decision.unverified_claim_ids) == ("unknown", ())
    assert service.list_claims(owner)[0].status == "rejected"


def _audit_reason() -> str:
    return json.dumps({"reason": "a rejection needs a reason (the owner is shown it)"})


def test_only_operators_decide(service: RegistryService, shared_data: Path) -> None:
    owner, _ = service.register_owner("owner")
    claim = service.add_claim(owner, Selector.for_image(_image(shared_data)))
    with pytest.raises(PermissionDenied, match="only registry operators"):
        service.decide_review(owner, claim.id, approve=True)
    assert _audit(service, "approve_claim")[0][:2] == ("denied", owner.id)
    reviewer, _ = service.register_owner("reviewer")
    reviewer = service.set_operator(reviewer)
    assert reviewer.operator
    assert service.decide_review(reviewer, claim.id, approve=True).status == "verified"
    assert _audit(service, "approve_claim")[-1][:2] == ("ok", reviewer.id)
    assert _audit(service, "grant_operator") == [("ok", "operator", "{}")]


def test_operator_verified_image_claims_skip_the_queue(
    service: RegistryService, shared_data: Path
) -> None:
    owner, _ = service.register_owner("agency")
    service.add_claim(owner, Selector.for_image(_image(shared_data)), verified=True)
    assert service.review_queue() == []


def _run(home: Path, *args: str) -> tuple[int, str]:
    """Exit code and stdout (stderr too when the command failed)."""
    result = CliRunner().invoke(app, ["--home", str(home), *args])
    return result.exit_code, result.stdout + (result.stderr if result.exit_code else "")


def test_review_cli_lists_approves_and_rejects(tmp_path: Path, shared_data: Path) -> None:
    home = tmp_path / "home"
    first, second = shared_data / IMAGES / "cc12m_1.jpg", shared_data / IMAGES / "cc12m_2.jpg"
    ids = []
    for image in (first, second):
        code, out = _run(
            home, "registry", "add-claim", "--owner", "ann", "--image", str(image), "--json"
        )
        assert code == 0, out
        ids.append(json.loads(out)["id"])
    code, out = _run(home, "registry", "review", "list", "--json")
    assert code == 0
    assert [r["review"]["claim_id"] for r in json.loads(out)["reviews"]] == ids

    assert _run(home, "registry", "review", "approve", ids[0])[0] == 0
    code, out = _run(home, "registry", "review", "reject", ids[1])
    assert code == 2
    assert "--reason" in out
    code, out = _run(home, "registry", "review", "reject", ids[1], "--reason", "not yours")
    assert (code, out.strip()) == (0, f"claim {ids[1]}: rejected")

    code, out = _run(home, "registry", "review", "list", "--status", "all", "--json")
    decided = {r["review"]["claim_id"]: r["review"] for r in json.loads(out)["reviews"]}
    assert decided[ids[0]]["status"] == "approved"
    assert (decided[ids[1]]["status"], decided[ids[1]]["reason"]) == ("rejected", "not yours")
    code, out = _run(
        home, "registry", "check", "--image", str(first), "--image", str(second), "--json"
    )
    assert code == 0
    got = [(d["item"], d["decision"]) for d in json.loads(out)["decisions"]]
    assert got == [(str(first), "do_not_train"), (str(second), "unknown")]

    assert _run(home, "registry", "grant-operator", "nobody")[0] == 2
    code, out = _run(home, "registry", "grant-operator", "ann")
    assert (code, out.strip()) == (0, "ann is a registry operator")


def test_a_database_from_revision_0002_gains_reviews_and_proofs(
    settings: Settings, shared_data: Path
) -> None:
    """An old registry (no reviews, page-proof, operator or keypoint columns) is upgraded
    in place and then queues, proves and keeps keypoints like a new one."""
    path = settings.home / "registry" / "registry.sqlite"
    engine = store.open_engine(path)
    config = Config()
    config.set_main_option("script_location", str(Path(store.__file__).parent / "migrations"))
    with engine.connect() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0002")
        conn.exec_driver_sql("DROP TABLE reviews")
        for table, column in (
            ("verifications", "scope"),
            ("verifications", "page"),
            ("owners", "operator"),
            ("claims", "keypoints"),
        ):
            conn.exec_driver_sql(f"ALTER TABLE {table} DROP COLUMN {column}")
        conn.commit()
    assert "reviews" not in inspect(engine).get_table_names()
    engine.dispose()

    service = RegistryService.open(settings)
    owner, _ = service.register_owner("old timer")
    claim = service.add_claim(owner, Selector.for_image(_image(shared_data)))
    assert [q.review.claim_id for q in service.review_queue()] == [claim.id]
    assert service.get_claim(claim.id).selector.keypoints == claim.selector.keypoints
    assert claim.selector.keypoints
    assert service.set_operator(owner).operator
    service.close()
