"""``registry check`` of an image file or an ISCC code: items, and one merged decision.

Oracle: an image's merged decision (one decision per digest, merged) must equal what the
index decides when all the claims its digests matched are resolved together.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from typer.testing import CliRunner

from traindex.cli.main import app
from traindex.fingerprint.iscc import iscc_from_body
from traindex.registry.decisions import ClaimRecord, DecisionIndex
from traindex.registry.items import parse_item
from traindex.registry.lookup import image_items, merge_decisions

NOW = datetime(2026, 12, 5, tzinfo=UTC)
DIGESTS = {
    "sha256": ("a" * 64, "b" * 64),
    "md5": ("c" * 32, "d" * 32),
    "iscc": ("00000000000000ff", "ffff000000000000"),
}
runner = CliRunner()


def test_iscc_codes_are_read_as_their_body() -> None:
    body = "c3a1f00d5e6b7a29"
    digest = parse_item(iscc_from_body(body))
    assert digest is not None
    assert (digest.kind, digest.value, digest.error) == ("iscc", body, None)
    assert parse_item(f"iscc:{body.upper()}") == digest
    bad = parse_item("ISCC:1234")
    assert bad is not None
    assert bad.error is not None
    assert "ISCC:1234" in bad.error


_claims = st.lists(
    st.tuples(
        st.sampled_from(sorted(DIGESTS)),
        st.integers(0, 1),
        st.sampled_from(["do_not_train", "license_required", "allow_with_attribution", "allow"]),
        st.sampled_from(["verified", "unverified"]),
    ),
    max_size=8,
)


@given(_claims, st.booleans())
def test_merged_decision_equals_resolving_every_matched_claim(
    claims: list[tuple[str, int, str, str]], counted: bool
) -> None:
    index = DecisionIndex()
    for n, (kind, which, terms, status) in enumerate(claims):
        digests = dict.fromkeys(("sha256", "md5", "pdq", "iscc")) | {kind: DIGESTS[kind][which]}
        index.apply(
            ClaimRecord(
                f"c{n}", "image", f"v{n}", True, digests["sha256"], digests["md5"],
                digests["pdq"], terms, status, None, digests["iscc"],
            )
        )  # fmt: skip
    items = [f"{kind}:{values[0]}" for kind, values in DIGESTS.items()]
    decisions = index.check(items, count_unverified=counted, now=NOW)
    merged = merge_decisions("photo.jpg", decisions)
    matched = tuple(
        f"c{n}" for n, (_, which, _, _) in enumerate(claims) if which == 0
    )  # every claim on a first digest matches one of the items
    expected = index.resolve("photo.jpg", matched, count_unverified=counted, now=NOW)
    assert (merged.decision, set(merged.claim_ids), merged.verified) == (
        expected.decision, set(expected.claim_ids), expected.verified,
    )  # fmt: skip
    assert set(merged.unverified_claim_ids) == set(expected.unverified_claim_ids)


def test_image_items_cover_every_digest_kind() -> None:
    buffer = io.BytesIO()
    Image.effect_noise((64, 48), 60).convert("RGB").save(buffer, "PNG")
    kinds = [item.split(":", 1)[0] for item in image_items(buffer.getvalue())]
    assert kinds == ["sha256", "md5", "pdq", "iscc"]


def test_cli_checks_an_image_file_and_an_iscc_code(tmp_path: Path) -> None:
    image = tmp_path / "mine.png"
    Image.effect_noise((64, 48), 60).convert("RGB").save(image)
    other = tmp_path / "other.png"
    Image.linear_gradient("L").convert("RGB").save(other)
    base = ["--home", str(tmp_path / "home"), "registry"]
    iscc = next(i for i in image_items(image.read_bytes()) if i.startswith("iscc:"))
    code = iscc_from_body(iscc.split(":", 1)[1])
    decl = tmp_path / "d.json"
    decl.write_text(json.dumps({"iscc": code, "train-ai": "false"}))
    done = runner.invoke(app, [*base, "import-declaration", str(decl), "--owner", "me"])
    assert done.exit_code == 0, done.output
    done = runner.invoke(
        app, [*base, "check", str(image), code, str(other), "--include-unverified", "--json"]
    )
    assert done.exit_code == 0, done.output
    decisions = json.loads(done.stdout)["decisions"]
    assert [(d["item"], d["decision"]) for d in decisions] == [
        (str(image), "do_not_train"), (code, "do_not_train"), (str(other), "unknown"),
    ]  # fmt: skip
    assert decisions[0]["claim_ids"] == decisions[1]["claim_ids"]
