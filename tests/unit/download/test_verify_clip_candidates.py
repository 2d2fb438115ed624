"""``search --images DIR --verify-candidates --clip-model M``: CLIP neighbours proven by pixels.

A LAION-embeddings release (``metadata/metadata_0.parquet`` + ``img_emb/img_emb_0.npy``)
whose rows point at real photos on the loopback server; its published embeddings are the
tiny test model's embeddings of those photos, so the model the user holds is the model
the release was embedded with. One more row, whose image is gone (404), publishes the
stranger's embedding: it is the stranger's nearest neighbour and can never be proven.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tests.unit.clip.conftest import write_model
from typer.testing import CliRunner

from traindex.bootstrap import Services
from traindex.cli.main import app
from traindex.config import Settings
from traindex.errors import InputError
from traindex.fingerprint.clip import ClipEncoder
from traindex.server.searching import WebSearch
from traindex.server.uploads import SearchForm

from .conftest import HOSTS, STRANGER, ImageSite, MakeRelease, write_clip_release

pytestmark = pytest.mark.shared
runner = CliRunner()
PER_IMAGE = 3
CAP = 5


def _embed(encoder: ClipEncoder, blobs: list[bytes]) -> np.ndarray:
    images = [Image.open(io.BytesIO(blob)).convert("RGB") for blob in blobs]
    return encoder.embed_images(images)


def _edit(data: bytes, path: Path) -> Path:
    """Resized to 75 % and re-encoded at quality 75: a 'same image', not a 'same file'."""
    with Image.open(io.BytesIO(data)) as image:
        rgb = image.convert("RGB")
        rgb.resize((rgb.width * 3 // 4, rgb.height * 3 // 4)).save(path, "JPEG", quality=75)
    return path


@pytest.fixture
def model(tmp_path: Path) -> Path:
    return write_model(tmp_path / "clip", text=False)


@pytest.fixture
def embedded(
    image_site: ImageSite, tmp_path: Path, model: Path, download_env: dict[str, str]
) -> tuple[Path, list[str], np.ndarray]:
    """The ingested release: (home, row URLs, published unit embeddings)."""
    source = tmp_path / "laion-emb"
    urls, vectors = write_clip_release(image_site, model, source)
    home = tmp_path / "home"
    args = ["--home", str(home), "ingest", str(source), "-d", "clipset"]
    ingested = runner.invoke(app, [*args, "--format", "laion-embeddings"])
    assert ingested.exit_code == 0, ingested.output
    published = vectors.astype(np.float16).astype(np.float32)
    return home, urls, published / np.linalg.norm(published, axis=1, keepdims=True)


def _oracle(ranks: list[list[int]]) -> list[int]:
    """Brute-force candidate rows: every file's rank r before any file's rank r + 1."""
    chosen: list[int] = []
    for rank in range(PER_IMAGE):
        for ranked in ranks:
            if ranked[rank] not in chosen and len(chosen) < CAP:
                chosen.append(ranked[rank])
    return chosen


def test_clip_neighbours_are_downloaded_and_only_pixels_prove_them(
    embedded: tuple[Path, list[str], np.ndarray],
    image_site: ImageSite,
    model: Path,
    tmp_path: Path,
) -> None:
    home, urls, published = embedded
    names = sorted(image_site.photos)
    folder = tmp_path / "portfolio"
    folder.mkdir()
    files = [
        _edit(image_site.photos[names[4]], folder / "edited.jpg"),
        folder / "stranger.jpg",
    ]
    files[1].write_bytes(STRANGER.read_bytes())
    queries = _embed(ClipEncoder(model), [f.read_bytes() for f in files])
    ranks = [np.argsort(-(published @ q), kind="stable")[:PER_IMAGE].tolist() for q in queries]
    assert ranks[0][0] == 4, "precondition: the edit's nearest row is its original"
    assert ranks[1][0] == len(urls) - 1, "precondition: the 404 row is the stranger's nearest"
    chosen = _oracle(ranks)
    answer_path = tmp_path / "answer.json"
    result = runner.invoke(
        app,
        ["--home", str(home), "search", "--images", str(folder), "-d", "clipset",
         "--verify-candidates", "--clip-model", str(model), "--candidates-per-image",
         str(PER_IMAGE), "--max-candidates", str(CAP), "--json", "--out", str(answer_path)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    answer = json.loads(answer_path.read_text())
    site_files = ("/robots.txt", "/.well-known/")  # the downloader's signal checks
    fetched = {path for path, _ in image_site.seen if not path.startswith(site_files)}
    assert fetched == {urls[row].split(str(image_site.port), 1)[1] for row in chosen}
    [match] = answer["matches"]
    assert (Path(match["query"]).name, match["url"]) == ("edited.jpg", urls[4])
    assert match["method"] == "same_image"
    assert match["verified_by_download"]["http_status"] == 200
    # the JSON contract's key order: the proof after the (rewritten) explanation
    assert list(match)[-3:] == ["confidence", "explanation", "verified_by_download"]
    expected_similar = {
        (str(files[qi]), urls[row]) for qi, ranked in enumerate(ranks) for row in ranked
        if row in chosen and (qi, row) != (0, 4)
    }  # fmt: skip
    assert {(m["query"], m["url"]) for m in answer["similar"]} == expected_similar
    for m in answer["similar"]:
        qi, row = [str(f) for f in files].index(m["query"]), urls.index(m["url"])
        assert m["method"] == "similar"
        assert m["cosine"] == pytest.approx(float(published[row] @ queries[qi]), abs=2e-3)
        assert "not evidence" in m["explanation"]
        assert m["candidate_status"] == ("HTTP 404" if row == len(urls) - 1 else "ok")
        assert list(m)[-5:] == ["query", "cosine", "model", "candidate_status", "explanation"]
    assert answer["candidates"] == {
        "source": "clip", "model": "tiny-random-512", "per_query": PER_IMAGE, "cap": CAP,
        "picked": len(chosen), "downloaded": len(chosen) - 1,
    }  # fmt: skip
    assert answer["partly_searched"] == [str(files[1])], "a neighbour is not a search"
    assert answer["not_found"] == []
    [coverage] = answer["coverage"]["releases"]
    assert (coverage["rows"], coverage["rows_searched"]) == (len(urls), len(chosen) - 1)
    assert coverage["failures"] == {"HTTP 404": 1}
    table = runner.invoke(
        app,
        ["--home", str(home), "search", "--images", str(folder), "-d", "clipset",
         "--verify-candidates", "--clip-model", str(model), "--candidates-per-image",
         str(PER_IMAGE), "--max-candidates", str(CAP)],
    )  # fmt: skip
    assert table.exit_code == 0, table.output
    said = " ".join(table.output.split())
    assert f"candidates: {CAP} picked by clip (tiny-random-512), at most {CAP}" in said
    assert "similar (CLIP neighbours not proven by pixels: not evidence)" in said
    assert "1 found, 0 not found, 1 partly searched" in said
    report = tmp_path / "report.json"
    signed = runner.invoke(
        app, ["--home", str(home), "report", "--from", str(answer_path), "--out", str(report)]
    )
    assert signed.exit_code == 0, signed.output
    body = json.loads(report.read_text())["report"]
    assert [m["url"] for m in body["matches"]] == [urls[4]], "similar rows are not evidence"


def test_clip_candidates_need_published_embeddings(
    laion_like: MakeRelease, model: Path, tmp_path: Path
) -> None:
    release = laion_like(special=False)
    folder = tmp_path / "portfolio"
    folder.mkdir()
    (folder / "me.jpg").write_bytes(STRANGER.read_bytes())
    base = ["search", "--images", str(folder), "-d", "laionlike", "--verify-candidates"]
    refused = runner.invoke(app, release.cli(*base, "--clip-model", str(model)))
    assert refused.exit_code != 0
    assert "no selected release publishes CLIP image embeddings (laionlike/main)" in (
        refused.output
    )
    nothing = runner.invoke(app, release.cli(*base))
    assert nothing.exit_code != 0
    assert "--verify-candidates needs candidates" in nothing.output
    both = runner.invoke(app, release.cli(*base, "--domain", HOSTS[0], "--clip-model", str(model)))
    assert both.exit_code != 0
    assert "one metadata selector or --clip-model, not both" in both.output
    assert not [path for path, _ in release.site.seen if path.startswith("/img/")]


def test_the_web_check_by_clip_uses_the_configured_weights(
    embedded: tuple[Path, list[str], np.ndarray],
    image_site: ImageSite,
    model: Path,
    tmp_path: Path,
) -> None:
    """The web app's "Download and check" with ``candidates=clip``: the same neighbours and
    proof as the CLI with the server's CLIP weights, and a plain refusal without them."""
    home, urls, _ = embedded
    edited = _edit(image_site.photos[sorted(image_site.photos)[4]], tmp_path / "edited.jpg")
    form = SearchForm(
        fields={"candidates": "clip", "dataset": "clipset", "q": ""},
        files=[("edited.jpg", edited.read_bytes())],
    )
    settings = Settings(
        home=home, clip_model_dir=model, web_verify_candidates=CAP,
        web_verify_clip_per_image=PER_IMAGE,
    )  # fmt: skip
    result = WebSearch.open(Services.for_web(settings)).verify(form)
    assert [(m.query, m.url, m.method) for m in result.matches] == [
        ("edited.jpg", urls[4], "same_image")
    ]
    assert result.candidates is not None
    assert result.candidates["source"] == "clip"
    assert result.candidates["picked"] == PER_IMAGE
    without = WebSearch.open(Services.for_web(Settings(home=home)))
    with pytest.raises(InputError, match="this server has none configured"):
        without.verify(form)
