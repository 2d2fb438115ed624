"""Download proofs carry their own RFC 3161 token (loopback TSA), and ``report verify``
says which authority vouched for which time of each; without a TSA they say the time is
the machine's clock."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from typer.testing import CliRunner

from traindex.cli.main import app
from traindex.config import Settings
from traindex.core.keyring import Keyring
from traindex.core.proofs import PROOF_CLOCK, proof_content
from traindex.core.signing import SignatureError
from traindex.core.timestamps import check_timestamp, load_tsa_certificates
from traindex.evidence.seal import open_sealed, seal
from traindex.evidence.verify import TrustOptions, check_report
from traindex.server.app import create_app

from .conftest import HOSTS, LaionLike, MakeRelease

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from conftest import StartTsa

pytestmark = pytest.mark.shared
runner = CliRunner()


def _search(release: LaionLike, tmp_path: Path, *extra: str) -> dict[str, object]:
    """``search --verify-candidates`` for a resized copy of the second photo."""
    names = sorted(release.site.photos)
    folder = tmp_path / "portfolio"
    folder.mkdir(exist_ok=True)
    with Image.open(io.BytesIO(release.site.photos[names[1]])) as image:
        small = image.convert("RGB").resize((image.width * 3 // 4, image.height * 3 // 4))
        small.save(folder / "edited.jpg", "JPEG", quality=75)
    args = release.cli(
        "search", "--images", str(folder), "-d", "laionlike", "--verify-candidates",
        "--domain", HOSTS[1], "--json", "--out", str(tmp_path / "answer.json"), *extra,
    )  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    answer: dict[str, object] = json.loads(result.stdout)
    return answer


def _run(release: LaionLike, *args: str, code: int = 0) -> str:
    result = runner.invoke(app, release.cli(*args))
    assert result.exit_code == code, result.output
    return " ".join(result.output.split())


def test_proofs_are_stamped_and_verify_names_the_authority(
    laion_like: MakeRelease, tmp_path: Path, loopback_tsa: StartTsa
) -> None:
    release = laion_like(special=False)
    tsa, rogue = loopback_tsa("Loopback Time Authority"), loopback_tsa("Rogue Time Authority")
    answer = _search(release, tmp_path, "--tsa", tsa.url)
    [match] = answer["matches"]  # type: ignore[misc]
    proof = match["verified_by_download"]
    assert "Loopback Time Authority" in proof["timestamp"]["authority"]
    assert "Loopback Time Authority" in proof["time_basis"]
    trusted = load_tsa_certificates([tsa.certificate])
    stamp = check_timestamp(proof["timestamp"], proof_content(proof), trusted)
    assert stamp.trusted
    assert stamp.time.isoformat() == proof["timestamp"]["time"]
    edited = {**proof, "http_status": 404}
    with pytest.raises(SignatureError, match=r"not about these bytes|does not verify"):
        check_timestamp(proof["timestamp"], proof_content(edited), trusted)

    again = _search(release, tmp_path, "--tsa", tsa.url)
    [second] = again["matches"]  # type: ignore[misc]
    assert second["verified_by_download"] == proof, "the same fetch keeps its token"

    report = tmp_path / "report.json"
    table = tmp_path / "report.csv"
    saved = str(tmp_path / "answer.json")
    _run(release, "report", "--from", saved, "--out", str(report), "--out", str(table))
    body = json.loads(report.read_bytes())["report"]
    [row] = body["matches"]
    assert row["download_proof"]["timestamp"] == proof["timestamp"]
    [line] = csv.DictReader(io.StringIO(table.read_text(encoding="utf-8")))
    assert line["download_proof"].startswith(f"{proof['url']} fetched at {proof['fetched_at']}")
    assert line["download_proof"].endswith(proof["time_basis"])
    said = _run(release, "report", "verify", str(report), "--tsa-cert", str(tsa.certificate))
    where = f"download proof of laionlike/{row['release']} {row['source_file']} row {row['row']}"
    assert where in said
    assert f"timestamped {proof['timestamp']['time']} by" in said
    assert "Loopback Time Authority (a trusted authority)" in said
    assert "fetched at " + proof["fetched_at"] in said
    api = TestClient(create_app(Settings(home=release.home, tsa_certificates=[tsa.certificate])))
    answered = api.post("/api/evidence/verify", json={"report": json.loads(report.read_bytes())})
    [checked] = answered.json()["download_proofs"]
    assert answered.json()["valid"]
    assert checked["timestamp"]["trusted"]
    assert checked["timestamp"]["time"] == proof["timestamp"]["time"]
    assert "Loopback Time Authority" in checked["timestamp"]["authority"]
    refused = _run(
        release, "report", "verify", str(report), "--tsa-cert", str(rogue.certificate), code=1
    )
    assert where in refused
    assert "not by a trusted timestamp authority" in refused


def test_an_edited_proof_is_refused_even_when_re_signed(
    laion_like: MakeRelease, tmp_path: Path, loopback_tsa: StartTsa
) -> None:
    release = laion_like(special=False)
    tsa = loopback_tsa("Loopback Time Authority")
    answer = _search(release, tmp_path, "--tsa", tsa.url)
    saved = tmp_path / "answer.json"
    report = tmp_path / "report.json"
    _run(release, "report", "--from", str(saved), "--out", str(report))

    for field, value in (("fetched_at", "2020-01-01T00:00:00+00:00"), ("sha256", "0" * 64)):
        forged = json.loads(json.dumps(answer))
        forged["matches"][0]["verified_by_download"][field] = value
        saved.write_text(json.dumps(forged))
        said = _run(release, "report", "--from", str(saved), "--out", str(report), code=2)
        assert "download proof of laionlike/" in said
    forged = json.loads(json.dumps(answer))
    forged["matches"][0]["verified_by_download"]["timestamp"]["time"] = "2020-01-01T00:00:00"
    saved.write_text(json.dumps(forged))
    said = _run(release, "report", "--from", str(saved), "--out", str(report), code=2)
    assert "but its token says" in said

    # The operator edits the proof in a signed report and signs it again: the proof's
    # own token still gives it away.
    settings = Settings(home=release.home)
    sealed = open_sealed(report.read_bytes())
    row = sealed.report.matches[0]
    assert row.download_proof is not None
    assert row.download_proof.timestamp is not None
    moved = row.download_proof.model_copy(update={"fetched_at": "2020-01-01T00:00:00+00:00"})
    body = sealed.report.model_copy(
        update={"matches": [row.model_copy(update={"download_proof": moved})]}
    )
    resigned = seal(body, Keyring(release.home / "keys").signer)
    with pytest.raises(SignatureError, match="download proof of laionlike/"):
        check_report(resigned.to_bytes(), settings, TrustOptions())


def test_without_authority_the_proof_says_its_time_is_the_machine_clock(
    laion_like: MakeRelease, tmp_path: Path
) -> None:
    release = laion_like(special=False)
    answer = _search(release, tmp_path)
    proof = answer["matches"][0]["verified_by_download"]  # type: ignore[index]
    assert "timestamp" not in proof
    assert proof["time_basis"] == PROOF_CLOCK
    report = tmp_path / "report.html"
    _run(release, "report", "--from", str(tmp_path / "answer.json"), "--out", str(report))
    assert "fetching machine&#39;s clock" in report.read_text(encoding="utf-8")
    said = _run(release, "report", "verify", str(report.with_suffix(".json")))
    assert "fetched at " + proof["fetched_at"] + "; " + PROOF_CLOCK in said
    refused = _run(
        release, "search", "--url", "http://x.example/a.jpg", "--tsa", "http://t/", code=2
    )
    assert "--verify-candidates" in refused
