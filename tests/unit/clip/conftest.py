"""A tiny random-weight CLIP-like model, written with the ``onnx`` package per test session.

Image tower: NCHW float pixels -> 8x8 strided convolution -> ReLU -> global average pool ->
(N, D). Text tower: (N, L) int64 token ids -> embedding table lookup -> mean over tokens ->
(N, D). Neither normalises: the loader must. Plus a BPE merges file in OpenAI's format and
the ``clip.json`` that ties them together. D = 512, like LAION-400M's ViT-B/32 embeddings.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

DIM = 512
SIDE = 32
CONTEXT = 16
MERGES = ["#version: 0.2", "h e", "l l", "he ll", "k i", "t t", "ki tt", "e n</w>"]
VOCAB = 256 * 2 + len(MERGES) - 1 + 2  # bytes, bytes + </w>, merges, start/end


def _save(graph: onnx.GraphProto, path: Path) -> None:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def image_tower(path: Path, dim: int = DIM, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    weight = numpy_helper.from_array(rng.normal(size=(dim, 3, 8, 8)).astype(np.float32), "w")
    nodes = [
        helper.make_node("Conv", ["pixels", "w"], ["conv"], strides=[8, 8]),
        helper.make_node("Relu", ["conv"], ["relu"]),
        helper.make_node("GlobalAveragePool", ["relu"], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["embedding"]),
    ]
    graph = helper.make_graph(
        nodes,
        "image",
        [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["n", 3, SIDE, SIDE])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["n", dim])],
        [weight],
    )
    _save(graph, path)


def text_tower(path: Path, vocab_size: int, dim: int = DIM, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    table = numpy_helper.from_array(rng.normal(size=(vocab_size, dim)).astype(np.float32), "t")
    axes = numpy_helper.from_array(np.asarray([1], np.int64), "axes")
    nodes = [
        helper.make_node("Gather", ["t", "tokens"], ["vectors"]),
        helper.make_node("ReduceMean", ["vectors", "axes"], ["embedding"], keepdims=0),
    ]
    graph = helper.make_graph(
        nodes,
        "text",
        [helper.make_tensor_value_info("tokens", TensorProto.INT64, ["n", CONTEXT])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["n", dim])],
        [table, axes],
    )
    _save(graph, path)


def write_model(folder: Path, *, dim: int = DIM, text: bool = True) -> Path:
    """A complete model folder (``clip.json`` + towers + vocab); returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    image_tower(folder / "image.onnx", dim)
    config: dict[str, object] = {
        "model": f"tiny-random-{dim}",
        "image_model": "image.onnx",
        "image_size": SIDE,
        "mean": [0.5, 0.5, 0.5],
        "std": [0.25, 0.25, 0.25],
        "context_length": CONTEXT,
    }
    if text:
        (folder / "vocab.txt").write_text("\n".join(MERGES) + "\n", encoding="utf-8")
        text_tower(folder / "text.onnx", VOCAB, dim)
        config |= {"text_model": "text.onnx", "vocab": "vocab.txt"}
    (folder / "clip.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def clip_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_model(tmp_path_factory.mktemp("clip") / "model")
