"""CLIP neighbour search over published LAION-layout embeddings, against brute force."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from traindex.catalog.locations import split_loc
from traindex.catalog.store import Catalog
from traindex.cli.main import app
from traindex.config import Settings
from traindex.core.match_evidence import SimilarEvidence
from traindex.fingerprint.clip import ClipEncoder, ClipModelError
from traindex.index.brute_vectors import exact_search
from traindex.ingest.pipeline import ingest
from traindex.search.similar import SIMILAR_EXPLANATION, SimilarSearch

from .conftest import write_model

pytestmark = pytest.mark.shared

LAYOUT = "_generated/clip-retrieval-vitb32-embeddings-laion-layout"
IMAGES = "clip-retrieval/tests/test_clip_inference/test_images"


def _unit(array: np.ndarray) -> np.ndarray:
    vectors = np.asarray(array, np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.fixture
def published(settings: Settings, shared_data: Path) -> np.ndarray:
    """The 7 real ViT-B/32 embeddings ingested as a release; returns them (unit norm)."""
    ingest(settings, shared_data / LAYOUT, dataset="clipret", release="r")
    return _unit(np.load(shared_data / LAYOUT / "img_emb" / "img_emb_0.npy"))


def _rows(result_ids: list[int]) -> list[int]:
    return [split_loc(loc)[1] for loc in result_ids]


def test_flat_index_equals_brute_force(
    settings: Settings, published: np.ndarray, clip_model: Path
) -> None:
    search = SimilarSearch(Catalog(settings), ClipEncoder(clip_model))
    [view] = search.views.select("clipret")
    index = search.index(view)
    assert index is not None
    assert index.kind == "flat"
    found, lost = index.search(published, 7)
    assert lost == ()  # an in-process index reaches every shard
    ids, sims = exact_search(published, published, np.arange(7, dtype=np.int64), 7, "ip")
    for q in range(7):
        assert _rows([loc for loc, _ in found[q]]) == ids[q].tolist()
        np.testing.assert_allclose([s for _, s in found[q]], sims[q], atol=1e-5)
    assert _rows([loc for loc, _ in found[0]])[:2] == [0, 3]  # the two kittens (cosine 0.87)


def test_image_query_is_ranked_by_the_model_and_labelled_similar(
    settings: Settings, published: np.ndarray, clip_model: Path, shared_data: Path
) -> None:
    photo = shared_data / IMAGES / "416_264.jpg"
    search = SimilarSearch(Catalog(settings), ClipEncoder(clip_model))
    result = search.search_images([(photo.name, photo.read_bytes())], limit=5)
    query = search.embed_files([(photo.name, photo.read_bytes())])
    expected = np.argsort(-(published @ query[0]), kind="stable")[:5]
    assert [m.row for m in result.matches] == expected.tolist()
    for match in result.matches:
        assert match.method == "similar"
        assert match.evidence_as(SimilarEvidence).explanation == SIMILAR_EXPLANATION
        assert match.score == pytest.approx(float(published[match.row] @ query[0]), abs=1e-4)
    assert result.query["searched"] == ["clipret/r"]
    assert result.coverage is not None
    coverage = result.to_json()["coverage"]
    assert coverage["signals"] == ["clip"]
    assert coverage["releases"][0]["covered"]["clip"] == len(published)


def test_text_query(settings: Settings, published: np.ndarray, clip_model: Path) -> None:
    encoder = ClipEncoder(clip_model)
    result = SimilarSearch(Catalog(settings), encoder).search_text("hello kitten", limit=3)
    expected = np.argsort(-(published @ encoder.embed_texts(["hello kitten"])[0]))[:3]
    assert [m.row for m in result.matches] == expected.tolist()
    assert {m.method for m in result.matches} == {"similar"}


def test_model_of_another_dimension_is_refused(
    settings: Settings, published: np.ndarray, tmp_path: Path
) -> None:
    search = SimilarSearch(Catalog(settings), ClipEncoder(write_model(tmp_path / "m", dim=64)))
    with pytest.raises(ClipModelError, match="64-d embeddings but clipret/r publishes 512-d"):
        search.search_text("a cat")


def _large_layout(root: Path, rows_per_file: int, files: int, dim: int) -> np.ndarray:
    """A LAION layout of clustered random embeddings (float16, as LAION ships them)."""
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(40, dim))
    (root / "img_emb").mkdir(parents=True)
    (root / "metadata").mkdir()
    parts = []
    for f in range(files):
        labels = rng.integers(0, 40, rows_per_file)
        vectors = _unit(centres[labels] + 0.35 * rng.normal(size=(rows_per_file, dim)))
        np.save(root / "img_emb" / f"img_emb_{f}.npy", vectors.astype(np.float16))
        keys = [f"{f}_{i}" for i in range(rows_per_file)]
        pq.write_table(pa.table({"image_path": keys}), root / "metadata" / f"metadata_{f}.parquet")
        parts.append(_unit(vectors.astype(np.float16)))
    return np.concatenate(parts)


def test_ivfpq_above_the_flat_limit_recalls_and_scores_exactly(
    tmp_path: Path, clip_model: Path
) -> None:
    settings = Settings(home=tmp_path / "home", clip_flat_max_rows=1000)
    stored = _large_layout(tmp_path / "big", 1500, 2, 64)
    ingest(settings, tmp_path / "big", dataset="big", release="r")
    search = SimilarSearch(
        Catalog(settings), ClipEncoder(write_model(tmp_path / "m64", dim=64)), flat_max_rows=1000
    )
    [view] = search.views.select("big")
    index = search.index(view)
    assert index is not None
    assert index.kind == "ivfpq"
    queries = stored[::60]
    found, _ = index.search(queries, 10)
    ids, _sims = exact_search(queries, stored, np.arange(len(stored), dtype=np.int64), 10, "ip")
    recall = []
    for q, hits in enumerate(found):
        got = [split_loc(loc)[0] * 1500 + split_loc(loc)[1] for loc, _ in hits]
        recall.append(len(set(got) & set(ids[q].tolist())) / 10)
        for row, (_, cosine) in zip(got, hits, strict=True):  # re-scored exactly
            assert cosine == pytest.approx(float(stored[row] @ queries[q]), abs=1e-4)
    assert np.mean(recall) >= 0.9


def test_cli_similar_and_similar_text(
    settings: Settings, published: np.ndarray, clip_model: Path, shared_data: Path
) -> None:
    photo = shared_data / IMAGES / "123_456.jpg"
    base = ["--home", str(settings.home), "search", "--clip-model", str(clip_model), "--json"]
    runner = CliRunner()
    result = runner.invoke(app, [*base, "--similar", str(photo), "--limit", "3"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["query"]["kind"] == "similar"
    assert [m["method"] for m in answer["matches"]] == ["similar"] * 3
    result = runner.invoke(app, [*base, "--similar-text", "hello kitten", "-d", "clipret"])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.output)["matches"]) == 7


def test_cli_without_a_model_says_how_to_get_one(settings: Settings, published: np.ndarray) -> None:
    result = CliRunner().invoke(
        app, ["--home", str(settings.home), "search", "--similar-text", "a cat"]
    )
    assert result.exit_code == 2
    assert "TRAINDEX_CLIP_MODEL_DIR" in result.output
    assert "never" in result.output


def test_datacomp_npz_picks_the_image_array_of_the_model_dimension(
    tmp_path: Path, shared_data: Path, clip_model: Path
) -> None:
    """A DataComp pool (real LAION URLs/captions; DataComp ships no public sample): the
    npz holds b32 (512-d) and l14 (768-d) image and text arrays; a 512-d model searches b32."""
    real = pq.read_table(shared_data / "img2dataset/tests/test_files/test_1000.parquet")
    n = 30
    urls = real.column("URL").to_pylist()[:n]
    stem = "00d88deb6cc5ec92105ba44e7441e22f"
    folder = tmp_path / "pool"
    folder.mkdir()
    pq.write_table(
        pa.table({"uid": [f"{i:032x}" for i in range(n)], "url": urls,
                  "text": real.column("TEXT").to_pylist()[:n],
                  "original_width": [640] * n, "original_height": [480] * n,
                  "clip_b32_similarity_score": [0.3] * n}),
        folder / f"{stem}.parquet",
    )  # fmt: skip
    rng = np.random.default_rng(4)
    b32 = _unit(rng.normal(size=(n, 512)))
    np.savez(folder / f"{stem}.npz", b32_img=b32.astype(np.float16),
             b32_txt=np.zeros((n, 512), np.float16), l14_img=np.zeros((n, 768), np.float16),
             l14_txt=np.zeros((n, 768), np.float16))  # fmt: skip
    settings = Settings(home=tmp_path / "home")
    ingest(settings, folder, dataset="pool", release="small")
    search = SimilarSearch(Catalog(settings), ClipEncoder(clip_model))
    [view] = search.views.select("pool")
    index = search.index(view)
    assert index is not None
    stored = _unit(b32.astype(np.float16))
    found, _ = index.search(stored[:3], 4)
    ids, _ = exact_search(stored[:3], stored, np.arange(n, dtype=np.int64), 4, "ip")
    assert [_rows([loc for loc, _ in hits]) for hits in found] == ids.tolist()
    result = search.search_text("hello kitten", dataset="pool", limit=3)
    assert [m.url for m in result.matches] == [urls[m.row] for m in result.matches]
