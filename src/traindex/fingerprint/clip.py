"""CLIP image and text encoders from user-supplied ONNX files, run with ONNX Runtime.

traindex never downloads weights (DESIGN.md). A CLIP model folder holds ``clip.json``::

    {"model": "ViT-B-32",                 # the embedding space; must match the dataset's
     "image_model": "image.onnx",         # NCHW float32 pixels -> (N, D) embedding
     "text_model": "text.onnx",           # optional: (N, context_length) int64 ids -> (N, D)
     "vocab": "bpe_simple_vocab_16e6.txt.gz",  # optional: OpenAI CLIP BPE merges (text only)
     "image_size": 224, "mean": [...], "std": [...], "context_length": 77}

Export the two towers of an open_clip / OpenAI CLIP checkpoint to ONNX on a machine that
has them (``torch.onnx.export(model.visual, ...)``; the text tower with
``model.encode_text``) and copy the files here; ``bpe_simple_vocab_16e6.txt.gz`` ships with
open_clip. Preprocessing is CLIP's: shorter side resized to ``image_size`` (bicubic), centre
crop, scale to 0-1, normalise by ``mean``/``std``. Embeddings are L2-normalised here
whatever the export did, so an inner product is a cosine.

The tokenizer is CLIP's byte-level BPE, re-implemented without ftfy/regex: text is
lower-cased and HTML-unescaped, and the letter/number classes use Python's ``re``
(``[^\\W\\d_]`` for letters), which agrees with CLIP's ``\\p{L}``/``\\p{N}`` on ordinary text.
"""

from __future__ import annotations

import gzip
import html
import itertools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from traindex.errors import InputError
from traindex.fingerprint.base import Fingerprinter
from traindex.fingerprint.images import DEFAULT_MAX_PIXELS, decode_image

__all__ = ["ClipConfig", "ClipEncoder", "ClipModelError", "ClipTokenizer"]

CONFIG_NAME = "clip.json"
_HOW = (
    "traindex never downloads weights: export an open_clip/OpenAI CLIP checkpoint's towers "
    "to ONNX elsewhere (torch.onnx.export), copy them with clip.json into the folder and "
    "point TRAINDEX_CLIP_MODEL_DIR (or --clip-model) at it; see docs/nearcopy.md"
)
_PATTERN = re.compile(
    r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[^\W\d_]+|\d|(?:[^\s\w]|_)+",
    re.IGNORECASE,
)


class ClipModelError(InputError):
    """The CLIP model folder is missing a file or holds something unusable."""


@dataclass(frozen=True, slots=True)
class ClipConfig:
    """``clip.json`` resolved against its folder; optional parts are ``None``."""

    model: str
    image_model: Path
    text_model: Path | None
    vocab: Path | None
    image_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    context_length: int

    @classmethod
    def load(cls, folder: Path) -> ClipConfig:
        """Read ``folder/clip.json``; a missing folder, config or model file is an error
        naming the file and how to get it."""
        path = folder / CONFIG_NAME
        if not path.is_file():
            raise ClipModelError(f"no CLIP model config {CONFIG_NAME}; {_HOW}", path=str(path))
        try:
            raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            config = cls(
                model=str(raw["model"]),
                image_model=folder / str(raw.get("image_model", "image.onnx")),
                text_model=folder / raw["text_model"] if raw.get("text_model") else None,
                vocab=folder / raw["vocab"] if raw.get("vocab") else None,
                image_size=int(raw.get("image_size", 224)),
                mean=tuple(float(v) for v in raw.get("mean", (0.4815, 0.4578, 0.4082))),  # type: ignore[arg-type]
                std=tuple(float(v) for v in raw.get("std", (0.2686, 0.2613, 0.2758))),  # type: ignore[arg-type]
                context_length=int(raw.get("context_length", 77)),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ClipModelError(f"unusable {CONFIG_NAME} ({exc!r})", path=str(path)) from None
        _require(config.image_model, "image encoder")
        return config


def _require(path: Path, what: str) -> Path:
    if not path.is_file():
        raise ClipModelError(f"the CLIP {what} file is missing; {_HOW}", path=str(path))
    return path


@cache
def _byte_alphabet() -> dict[int, str]:
    """CLIP's reversible byte -> printable character map (GPT-2's ``bytes_to_unicode``)."""
    printable = [*range(33, 127), *range(161, 173), *range(174, 256)]
    chars = list(printable)
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            chars.append(256 + extra)
            extra += 1
    return {b: chr(c) for b, c in zip(printable, chars, strict=True)}


class ClipTokenizer:
    """OpenAI CLIP's BPE tokenizer over a user-supplied merges file (``.txt`` or ``.gz``)."""

    def __init__(self, vocab: Path, *, max_merges: int = 49152 - 256 - 2) -> None:
        opener = gzip.open if vocab.suffix == ".gz" else open
        with opener(vocab, "rt", encoding="utf-8") as handle:
            lines = handle.read().split("\n")[1 : max_merges + 1]
        merges = [tuple(line.split()) for line in lines if len(line.split()) == 2]
        symbols = list(_byte_alphabet().values())
        words = symbols + [s + "</w>" for s in symbols] + ["".join(m) for m in merges]
        words += ["<|startoftext|>", "<|endoftext|>"]
        self.encoder = {word: i for i, word in enumerate(words)}
        self.ranks = {pair: i for i, pair in enumerate(merges)}
        self._cache: dict[str, list[str]] = {}

    def _bpe(self, token: str) -> list[str]:
        if token in self._cache:
            return self._cache[token]
        word = [*token[:-1], token[-1] + "</w>"]
        while len(word) > 1:
            pairs = set(itertools.pairwise(word))
            best = min(pairs, key=lambda p: self.ranks.get(p, len(self.ranks)))
            if best not in self.ranks:
                break
            merged: list[str] = []
            i = 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    merged.append(word[i] + word[i + 1])
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = merged
        self._cache[token] = word
        return word

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` (without start/end tokens)."""
        alphabet = _byte_alphabet()
        clean = " ".join(html.unescape(html.unescape(text)).split()).lower()
        ids: list[int] = []
        for piece in _PATTERN.findall(clean):
            mapped = "".join(alphabet[b] for b in piece.encode("utf-8"))
            ids.extend(self.encoder[part] for part in self._bpe(mapped) if part in self.encoder)
        return ids

    def batch(self, texts: Sequence[str], context_length: int) -> NDArray[np.int64]:
        """``(N, context_length)`` ids: start, text (truncated), end, zero padding."""
        start, end = self.encoder["<|startoftext|>"], self.encoder["<|endoftext|>"]
        out = np.zeros((len(texts), context_length), dtype=np.int64)
        for i, text in enumerate(texts):
            ids = [start, *self.encode(text)][: context_length - 1]
            ids.append(end)
            out[i, : len(ids)] = ids
        return out


def _normalise(vectors: NDArray[np.float32]) -> NDArray[np.float32]:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit: NDArray[np.float32] = (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
    return unit


class ClipEncoder(Fingerprinter["NDArray[np.float32]"]):
    """Image (and, when configured, text) embeddings from a user-supplied CLIP export.

    As a :class:`~traindex.fingerprint.base.Fingerprinter` its ``kind`` names the model
    (embeddings of different models live in different spaces) and ``fingerprint`` gives
    one file's unit-norm vector; batches go through :meth:`embed_files`.
    """

    def __init__(self, folder: Path) -> None:
        self.config = ClipConfig.load(folder)

    @property
    def kind(self) -> str:
        return f"clip-{self.config.model}"

    def fingerprint(self, data: bytes, *, name: str | None = None) -> NDArray[np.float32]:
        """The ``(D,)`` unit-norm embedding of one image file (decoded safely, RGB)."""
        vector: NDArray[np.float32] = self.embed_files([(name, data)])[0]
        return vector

    def embed_files(self, files: Sequence[tuple[str | None, bytes]]) -> NDArray[np.float32]:
        """``(N, D)`` unit-norm embeddings of image files, decoded safely (bomb limits)."""
        images = [
            decode_image(data, name=name, max_pixels=DEFAULT_MAX_PIXELS).image
            for name, data in files
        ]
        return self.embed_images(images)

    @cached_property
    def _image_session(self) -> Any:
        return _session(self.config.image_model)

    @cached_property
    def _text_session(self) -> Any:
        if self.config.text_model is None or self.config.vocab is None:
            raise ClipModelError(
                "text search needs 'text_model' and 'vocab' in clip.json; " + _HOW,
                path=str(self.config.image_model.parent / CONFIG_NAME),
            )
        _require(self.config.vocab, "BPE vocabulary")
        return _session(_require(self.config.text_model, "text encoder"))

    @cached_property
    def tokenizer(self) -> ClipTokenizer:
        assert self.config.vocab is not None
        return ClipTokenizer(_require(self.config.vocab, "BPE vocabulary"))

    def pixels(self, image: Image.Image) -> NDArray[np.float32]:
        """CLIP preprocessing of one RGB image: ``(3, S, S)`` normalised float32."""
        side = self.config.image_size
        scale = side / min(image.size)
        size = (max(side, round(image.width * scale)), max(side, round(image.height * scale)))
        resized = image.convert("RGB").resize(size, Image.Resampling.BICUBIC)
        left, top = (size[0] - side) // 2, (size[1] - side) // 2
        array = np.asarray(resized.crop((left, top, left + side, top + side)), np.float32) / 255
        array = (array - np.asarray(self.config.mean, np.float32)) / np.asarray(
            self.config.std, np.float32
        )
        return np.ascontiguousarray(array.transpose(2, 0, 1))

    def embed_images(self, images: Sequence[Image.Image]) -> NDArray[np.float32]:
        """``(N, D)`` unit-norm image embeddings."""
        batch = np.stack([self.pixels(image) for image in images])
        return _normalise(_run(self._image_session, batch))

    def embed_texts(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """``(N, D)`` unit-norm text embeddings (needs ``text_model`` and ``vocab``)."""
        session = self._text_session
        tokens = self.tokenizer.batch(texts, self.config.context_length)
        return _normalise(_run(session, tokens))


def _session(path: Path) -> Any:
    import onnxruntime as ort  # type: ignore[import-untyped]  # optional extra, no stubs

    options = ort.SessionOptions()
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own untyped errors for bad files
        raise ClipModelError(
            f"ONNX Runtime cannot load the model ({exc})", path=str(path)
        ) from None


def _run(session: Any, batch: NDArray[Any]) -> NDArray[np.float32]:
    name = session.get_inputs()[0].name
    output = np.asarray(session.run(None, {name: batch})[0], dtype=np.float32)
    return output.reshape(output.shape[0], -1)
