"""The real ONNX Runtime loader on a tiny random-weight model built in the test."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from skimage import data as skdata

from traindex.errors import InputError
from traindex.fingerprint.base import Fingerprinter
from traindex.fingerprint.clip import ClipEncoder, ClipModelError, ClipTokenizer

from .conftest import CONTEXT, DIM, MERGES, write_model


def test_image_embeddings_are_unit_norm_and_tell_photos_apart(clip_model: Path) -> None:
    encoder = ClipEncoder(clip_model)
    photos = [Image.fromarray(skdata.astronaut()), Image.fromarray(skdata.coffee())]
    again = photos[0].resize((300, 300))
    vectors = encoder.embed_images([*photos, again])
    assert vectors.shape == (3, DIM)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert vectors[0] @ vectors[2] > vectors[0] @ vectors[1]  # a resize stays closer
    np.testing.assert_allclose(encoder.embed_images(photos[:1])[0], vectors[0], rtol=1e-5)


def test_preprocessing_is_clip_centre_crop_and_normalise(clip_model: Path) -> None:
    encoder = ClipEncoder(clip_model)
    wide = Image.new("RGB", (64, 32), (255, 255, 255))
    wide.paste((0, 0, 0), (0, 0, 16, 32))  # a black band that the centre crop removes
    pixels = encoder.pixels(wide)
    assert pixels.shape == (3, 32, 32)
    np.testing.assert_allclose(pixels, (1.0 - 0.5) / 0.25)


def test_text_embeddings(clip_model: Path) -> None:
    encoder = ClipEncoder(clip_model)
    vectors = encoder.embed_texts(["hello kitten", "hello kitten", "a rocket"])
    assert vectors.shape == (3, DIM)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(vectors[0], vectors[1], rtol=1e-6)
    assert not np.allclose(vectors[0], vectors[2])


def test_bpe_applies_merges_in_rank_order(tmp_path: Path) -> None:
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(MERGES) + "\n")
    tokenizer = ClipTokenizer(vocab)
    words = {i: w for w, i in tokenizer.encoder.items()}
    assert [words[i] for i in tokenizer.encode("Hello KITTEN")] == [
        "hell",
        "o</w>",
        "kitt",
        "en</w>",
    ]
    assert [words[i] for i in tokenizer.encode("it's 42!")] == [
        "i", "t</w>", "'", "s</w>", "4</w>", "2</w>", "!</w>",
    ]  # fmt: skip  # "'s" is one pre-token; without an "' s" merge it stays two symbols


@given(text=st.text(max_size=200))
def test_token_batches_are_framed_and_bounded(clip_model: Path, text: str) -> None:
    tokenizer = ClipTokenizer(clip_model / "vocab.txt")
    ids = tokenizer.batch([text], CONTEXT)[0]
    end = tokenizer.encoder["<|endoftext|>"]
    assert ids[0] == tokenizer.encoder["<|startoftext|>"]
    assert end in ids.tolist()
    assert (ids[ids.tolist().index(end) + 1 :] == 0).all()
    assert ids.max() < len(tokenizer.encoder)


def test_missing_config_names_the_file_and_the_way_out(tmp_path: Path) -> None:
    with pytest.raises(ClipModelError, match=r"clip\.json") as info:
        ClipEncoder(tmp_path / "nowhere")
    assert "never downloads" in str(info.value)
    assert "ONNX" in str(info.value)


def test_missing_image_model_names_it(tmp_path: Path) -> None:
    folder = write_model(tmp_path / "m", text=False)
    (folder / "image.onnx").unlink()
    with pytest.raises(ClipModelError, match=r"image encoder file is missing.*image\.onnx"):
        ClipEncoder(folder)


def test_text_needs_text_model_and_vocab(tmp_path: Path) -> None:
    encoder = ClipEncoder(write_model(tmp_path / "m", text=False))
    with pytest.raises(ClipModelError, match="text_model"):
        encoder.embed_texts(["a cat"])


def test_broken_files_are_typed_errors(tmp_path: Path) -> None:
    folder = write_model(tmp_path / "m", text=False)
    (folder / "image.onnx").write_bytes(b"not a model")
    with pytest.raises(ClipModelError, match="ONNX Runtime cannot load"):
        ClipEncoder(folder).embed_images([Image.new("RGB", (40, 40))])
    (folder / "clip.json").write_text(json.dumps({"image_model": "image.onnx"}))
    with pytest.raises(ClipModelError, match=r"unusable clip\.json"):
        ClipEncoder(folder)


def test_the_encoder_is_a_fingerprinter_of_files(clip_model: Path) -> None:
    encoder = ClipEncoder(clip_model)
    assert isinstance(encoder, Fingerprinter)
    assert encoder.kind == f"clip-{encoder.config.model}"
    photo = Image.fromarray(skdata.coffee())
    buffer = io.BytesIO()
    photo.save(buffer, "PNG")
    vector = encoder.fingerprint(buffer.getvalue(), name="coffee.png")
    np.testing.assert_allclose(vector, encoder.embed_images([photo])[0], rtol=1e-5)
    with pytest.raises(InputError, match=r"broken\.png"):
        encoder.fingerprint(b"not a picture", name="broken.png")
