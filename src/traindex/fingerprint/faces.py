"""Face fingerprints: find the faces in a photo and embed each as a 128-d vector (dlib ResNet).

Pipeline, and why:

* **Safe decode** through :func:`traindex.fingerprint.images.decode_image` (bomb limits, EXIF
  orientation, grayscale/CMYK/alpha to RGB), so a sideways phone photo is analysed upright.
* **Bounded work.** Photos whose long side exceeds ``max_side`` are scaled down first: HOG
  detection costs time in proportion to pixels, and a face big enough to recognise stays
  big enough at 1,600 px. Boxes are reported in the file's own (EXIF-upright) pixels.
* **Detection**: dlib's HOG frontal-face detector by default (fast on a CPU); the CNN
  (MMOD) detector on request (finds turned and small faces, ~10x slower without a GPU).
  ``upsample`` doubles the image that many times before detecting, so faces down to ~40 px
  (once) or ~20 px (twice) are found, at 4x the cost per step.
* **Dataset boxes first.** When the dataset ships its own face boxes (DataComp
  ``face_bboxes``, relative ``[x1, y1, x2, y2]``), those are embedded instead of running a
  detector: it is the dataset's own notion of "a face", and it is free.
* **Too small is a reason, not a vector.** A face whose shorter side is below
  ``min_face`` analysed pixels is kept with ``skipped`` set: the ResNet sees a 150-px
  aligned chip. Measured on ``obama.jpg`` shrunk (upsample 2): a 19-px face lands
  0.51-0.71 from the full-size face and 0.62-0.70 from four strangers (no longer
  separable at the 0.6 threshold); a 38-px face lands 0.26 from it and >= 0.69 from them.
* **Embedding**: 5-point landmarks (dlib's recommended alignment for this model) then
  ``dlib_face_recognition_resnet_model_v1``: 99.38% on LFW at Euclidean distance 0.6.
  All weights ship in the ``face_recognition_models`` wheel and are loaded from
  site-packages; nothing is downloaded.

One photo gives any number of faces, and a face vector is compared by Euclidean distance,
not Hamming, so :class:`FaceFingerprinter` is a
:class:`~traindex.fingerprint.base.Fingerprinter` of :class:`FaceScan` (not of one digest);
each :class:`Face` carries its own box, size and detector score.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, ClassVar, Literal

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from traindex.errors import TraindexError
from traindex.fingerprint.base import Fingerprinter
from traindex.fingerprint.face_defaults import DEFAULT_MIN_FACE, DEFAULT_UPSAMPLE
from traindex.fingerprint.images import DEFAULT_MAX_PIXELS, decode_image

__all__ = [
    "DEFAULT_MAX_SIDE",
    "DEFAULT_MIN_FACE",
    "DEFAULT_MIN_SCORE",
    "DEFAULT_UPSAMPLE",
    "EMBEDDING_DIM",
    "Detector",
    "Face",
    "FaceBox",
    "FaceFingerprinter",
    "FaceOptions",
    "FaceScan",
    "parse_dataset_boxes",
]

EMBEDDING_DIM = 128
DEFAULT_MAX_SIDE = 1600
DEFAULT_MIN_SCORE = 0.2
"""Detector score below which a detection is not treated as a face. On the shipped photos
the only false detection (the mission patch on skimage's astronaut) scores 0.12 with HOG,
while the weakest real face (a child half turned away) scores 0.28."""

Detector = Literal["hog", "cnn"]
RelativeBox = tuple[float, float, float, float]
Rect = tuple[int, int, int, int]
Detection = tuple[Rect, float | None]


@dataclass(frozen=True, slots=True)
class FaceBox:
    """A face rectangle in the file's pixels (after EXIF rotation); right/bottom exclusive."""

    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    def to_json(self) -> dict[str, int]:
        return {"left": self.left, "top": self.top, "right": self.right, "bottom": self.bottom}


@dataclass(frozen=True, slots=True)
class Face:
    """One face: where, how big, how sure the detector was, and its embedding or why not.

    ``size`` is the shorter side in analysed pixels (what the embedding saw); ``quality``
    is the detector's score (HOG SVM margin, roughly 0-3; CNN confidence), ``None`` for a
    dataset-provided box. ``embedding`` is ``None`` exactly when ``skipped`` says why.
    """

    box: FaceBox
    size: int
    quality: float | None
    source: str
    embedding: NDArray[np.float32] | None = field(default=None, repr=False, compare=False)
    skipped: str | None = None

    def describe(self) -> dict[str, Any]:
        """The face without its embedding: safe to show, log or store with a query."""
        return {
            "box": self.box.to_json(),
            "size": self.size,
            "quality": None if self.quality is None else round(self.quality, 3),
            "source": self.source,
            "skipped": self.skipped,
        }


@dataclass(frozen=True, slots=True)
class FaceScan:
    """Every face found in one image, in reading order (left to right, then top down)."""

    name: str | None
    image_size: tuple[int, int]
    faces: list[Face]

    @property
    def embedded(self) -> list[Face]:
        """Faces with an embedding (large enough)."""
        return [f for f in self.faces if f.embedding is not None]


@dataclass(frozen=True, slots=True)
class FaceOptions:
    """Picklable settings of a :class:`FaceFingerprinter` (what a job ships to workers)."""

    detector: Detector = "hog"
    upsample: int = DEFAULT_UPSAMPLE
    min_face: int = DEFAULT_MIN_FACE
    min_score: float = DEFAULT_MIN_SCORE
    max_side: int = DEFAULT_MAX_SIDE
    max_pixels: int = DEFAULT_MAX_PIXELS

    def __post_init__(self) -> None:
        if self.detector not in ("hog", "cnn"):
            raise ValueError(f"detector must be 'hog' or 'cnn', got {self.detector!r}")
        if not 0 <= self.upsample <= 3:
            raise ValueError(
                f"upsample must be 0-3 (each step is 4x the work), got {self.upsample}"
            )
        if self.min_face < 1 or self.max_side < 64:
            raise ValueError("min_face must be >= 1 and max_side >= 64 pixels")


def parse_dataset_boxes(value: str | None) -> list[RelativeBox] | None:
    """A dataset's face boxes (JSON list of relative ``[x1, y1, x2, y2]``), or ``None``
    when the row has none or they are unusable, so the detector runs instead.

    ``[]`` means the dataset looked and found no face, and is returned as such.
    """
    if value is None:
        return None
    try:
        raw = json.loads(value)
        boxes = [tuple(float(v) for v in box) for box in raw]
    except (ValueError, TypeError):
        return None
    valid = [b for b in boxes if len(b) == 4 and 0 <= b[0] < b[2] <= 1 and 0 <= b[1] < b[3] <= 1]
    return valid if len(valid) == len(boxes) else None


_MODEL_LOCK = threading.Lock()
"""dlib's models keep per-call state (a ResNet forward pass writes its layer outputs), and
concurrent calls from a server's threads crash the process (seen: a segfault with 4
threads); they are shared by every scanner in the process, so one call at a time."""


@cache
def _models(detector: Detector) -> tuple[Any, Any, Any]:
    """(detector, 5-point shape predictor, ResNet) loaded once per process from the wheel."""
    try:
        import dlib  # type: ignore[import-untyped]
        import face_recognition_models as weights  # type: ignore[import-untyped]
    except ImportError as exc:
        raise TraindexError(
            "face search needs dlib and face_recognition_models: pip install 'traindex[faces]'"
        ) from exc
    if detector == "cnn":
        found = dlib.cnn_face_detection_model_v1(weights.cnn_face_detector_model_location())
    else:
        found = dlib.get_frontal_face_detector()
    shape = dlib.shape_predictor(weights.pose_predictor_five_point_model_location())
    resnet = dlib.face_recognition_model_v1(weights.face_recognition_model_location())
    return found, shape, resnet


class FaceFingerprinter(Fingerprinter["FaceScan"]):
    """Detects and embeds faces with the settings in ``options`` (safe to use per process)."""

    kind: ClassVar[str] = "face-dlib-resnet-v1"

    def __init__(self, options: FaceOptions | None = None) -> None:
        self.options = options or FaceOptions()

    def fingerprint(self, data: bytes, *, name: str | None = None) -> FaceScan:
        """Every face of the file ``data`` (detected: no dataset boxes), as :meth:`scan`."""
        return self.scan(data, name=name)

    def scan(
        self,
        data: bytes,
        *,
        name: str | None = None,
        dataset_boxes: Sequence[RelativeBox] | None = None,
    ) -> FaceScan:
        """Decode ``data`` safely and embed its faces (``dataset_boxes`` skip detection).

        Raises :class:`~traindex.fingerprint.images.ImageDecodeError` for unreadable or
        oversized images; finding no face is an empty scan, not an error.
        """
        opts = self.options
        decoded = decode_image(data, name=name, max_pixels=opts.max_pixels, min_side=opts.max_side)
        return self.scan_image(decoded.image, decoded.source_size, name, dataset_boxes)

    def scan_image(
        self,
        image: Image.Image,
        source_size: tuple[int, int] | None = None,
        name: str | None = None,
        dataset_boxes: Sequence[RelativeBox] | None = None,
    ) -> FaceScan:
        """Faces of an already decoded RGB image; boxes are scaled to ``source_size``."""
        source_size = source_size or image.size
        analysed = _bounded(image.convert("RGB"), self.options.max_side)
        pixels = np.asarray(analysed, dtype=np.uint8)
        scale = (source_size[0] / analysed.size[0], source_size[1] / analysed.size[1])
        with _MODEL_LOCK:
            if dataset_boxes is not None:
                rects: list[Detection] = [(_rect_of(b, analysed.size), None) for b in dataset_boxes]
                source = "dataset"
            else:
                rects = self._detect(pixels)
                source = self.options.detector
            rects.sort(key=lambda r: (r[0][0], r[0][1]))
            faces = self._embed(pixels, rects, source, scale)
        return FaceScan(name, source_size, faces)

    def _detect(self, pixels: NDArray[np.uint8]) -> list[Detection]:
        detector, _, _ = _models(self.options.detector)
        height, width = pixels.shape[:2]
        if self.options.detector == "cnn":
            found = [(d.rect, float(d.confidence)) for d in detector(pixels, self.options.upsample)]
        else:
            rects, scores, _ = detector.run(pixels, self.options.upsample, self.options.min_score)
            found = list(zip(rects, (float(s) for s in scores), strict=True))
        found = [(rect, score) for rect, score in found if score >= self.options.min_score]
        boxes: list[Detection] = []
        for rect, score in found:
            box: Rect = (
                max(0, rect.left()),
                max(0, rect.top()),
                min(width, rect.right() + 1),
                min(height, rect.bottom() + 1),
            )
            if box[2] > box[0] and box[3] > box[1]:
                boxes.append((box, score))
        return boxes

    def _embed(
        self,
        pixels: NDArray[np.uint8],
        rects: list[Detection],
        source: str,
        scale: tuple[float, float],
    ) -> list[Face]:
        """Embed every large-enough face in one ResNet batch; small ones get a reason."""
        import dlib

        _, shape_model, resnet = _models(self.options.detector)
        shapes = dlib.full_object_detections()
        faces: list[Face] = []
        for (left, top, right, bottom), quality in rects:
            file_box = FaceBox(
                round(left * scale[0]),
                round(top * scale[1]),
                round(right * scale[0]),
                round(bottom * scale[1]),
            )
            size = min(right - left, bottom - top)
            skipped = self._too_small(size)
            if skipped is None:
                shapes.append(shape_model(pixels, dlib.rectangle(left, top, right - 1, bottom - 1)))
            faces.append(Face(file_box, size, quality, source, None, skipped))
        vectors = iter(resnet.compute_face_descriptor(pixels, shapes) if len(shapes) else [])
        return [
            face
            if face.skipped
            else dataclasses.replace(face, embedding=np.asarray(next(vectors), dtype=np.float32))
            for face in faces
        ]

    def _too_small(self, size: int) -> str | None:
        """Why a face of ``size`` analysed pixels gets no embedding, or ``None``."""
        if size >= self.options.min_face:
            return None
        return (
            f"face is {size} px across as analysed, below the {self.options.min_face}-px "
            "minimum: too small for a reliable embedding"
        )


def _bounded(image: Image.Image, max_side: int) -> Image.Image:
    """``image`` scaled down so its long side is at most ``max_side`` (never up)."""
    long_side = max(image.size)
    if long_side <= max_side:
        return image
    factor = max_side / long_side
    size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
    return image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)


def _rect_of(box: RelativeBox, size: tuple[int, int]) -> Rect:
    x1, y1, x2, y2 = box
    width, height = size
    return (
        round(x1 * width),
        round(y1 * height),
        max(round(x2 * width), round(x1 * width) + 1),
        max(round(y2 * height), round(y1 * height) + 1),
    )
