"""Face detection with five landmarks: MTCNN (Zhang et al. 2016) from the ``mtcnn`` package.

``mtcnn==1.0.0`` is MIT-licensed, code and weights, and its weights sit inside the wheel, so
nothing is downloaded. It runs on TensorFlow and gives, per face, a box, a score and five
landmarks: the two eyes, the nose tip and the two mouth corners.

Coordinates here are continuous with pixel centres at half-integers: pixel ``(row i,
column j)`` covers ``[j, j + 1) x [i, i + 1)``, so an image ``W`` wide spans ``[0, W]``. This
is the convention of :mod:`srgan.faces.align` and of Pillow's transforms. MTCNN reports
pixel indices (the centre of pixel ``j`` is ``j``); :data:`MTCNN_OFFSET` converts.

Two things are added to the stock detector:

* **The pyramid guard.** MTCNN 1.0.0 counts its scale pyramid as if it started at scale 1,
  but starts it at ``12 / min_face_size``; with ``min_face_size`` above 12 its last levels
  can be smaller than the 12-pixel first-stage network, which then fails with "The
  convolution operation resulted in an empty output" (a 640x480 photo with
  ``min_face_size=40``, for one). :class:`_GuardedPNet` keeps only the levels whose short
  side is at least 12 pixels.
* **Small photos are enlarged** before detection, as CodeFormer does: a photo whose short
  side is under :attr:`DetectOptions.upsample_to` is resized (bicubic) so that it reaches
  it. MTCNN's landmarks on a 20-pixel face are then read off 40 or more pixels.

:func:`plausible` then drops what cannot be restored: low scores, faces too small, landmark
sets that are far from a frontal face (profiles, and false detections in clothing or in the
eyes of a larger face, "micro-faces"), and faces inside another face.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

# MTCNN's landmark and box values are pixel indices; add this for half-pixel-centre coords.
MTCNN_OFFSET = 0.5
# The first-stage network's input side: no pyramid level may be smaller.
PNET_SIZE = 12
LANDMARK_NAMES = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")


@dataclass(frozen=True)
class Face:
    """One detected face, in the coordinates of the image it was found in.

    Attributes:
        box: ``(x0, y0, x1, y1)``, continuous pixel coordinates (see the module docstring).
        landmarks: float ``(5, 2)`` of ``(x, y)``: left eye, right eye, nose, left and right
            mouth corner, "left" being the image's left.
        score: the detector's confidence in [0, 1].
    """

    box: tuple[float, float, float, float]
    landmarks: np.ndarray
    score: float

    @property
    def eye_distance(self) -> float:
        return float(np.linalg.norm(self.landmarks[1] - self.landmarks[0]))

    @property
    def size(self) -> float:
        """The longer side of the box, in pixels."""
        return float(max(self.box[2] - self.box[0], self.box[3] - self.box[1]))

    def scaled(self, factor: float) -> "Face":
        """The same face in an image ``factor`` times as large (continuous coordinates
        scale exactly)."""
        return Face(tuple(float(v) * factor for v in self.box), self.landmarks * factor,
                    self.score)

    def to_json(self) -> dict:
        return {"box": [round(float(v), 2) for v in self.box],
                "landmarks": {n: [round(float(x), 2), round(float(y), 2)]
                              for n, (x, y) in zip(LANDMARK_NAMES, self.landmarks)},
                "score": round(float(self.score), 4)}


@dataclass(frozen=True)
class DetectOptions:
    """How faces are found and which are kept.

    Attributes:
        min_size: the smallest face box side, in input pixels, to look for and to restore.
        score: the lowest detector confidence kept.
        upsample_to: photos whose short side is under this are enlarged to it before
            detection (0: never).
        max_faces: keep at most this many, the largest first (None: all).
        only_center_face: keep only the face nearest the image centre.
        max_misfit: the largest residual of the landmarks against the frontal template
            after the similarity fit, as a fraction of the template's eye distance
            (:func:`srgan.faces.align.misfit`); larger sets are profiles or not faces. On
            298 faces of the first 300 CelebA photos: median 0.08, 95th percentile 0.19,
            99th 0.24 (three-quarter views), largest 0.40 (a near-profile).
    """

    min_size: float = 10.0
    score: float = 0.95
    upsample_to: int = 512
    max_faces: Optional[int] = None
    only_center_face: bool = False
    max_misfit: float = 0.35


class DetectionError(RuntimeError):
    """The detector failed on an image (not: found no face)."""


def _pyramid(short_side: float, min_face_size: float, factor: float) -> np.ndarray:
    """The scales MTCNN's first stage should run: from ``12 / min_face_size`` down by
    ``factor`` while the image's short side stays at least :data:`PNET_SIZE` pixels."""
    scales, scale = [], PNET_SIZE / min_face_size
    while short_side * scale >= PNET_SIZE:
        scales.append(scale)
        scale *= factor
    return np.asarray(scales)


def _guarded_pnet_class():
    """:class:`mtcnn.stages.StagePNet` with :func:`_pyramid`; built on first use, so that
    importing this module does not import TensorFlow."""
    from mtcnn.stages import StagePNet
    from mtcnn.utils.bboxes import (generate_bounding_box, resize_to_square,
                                    smart_nms_from_bboxes, upscale_bboxes)
    from mtcnn.utils.images import apply_scales

    class _GuardedPNet(StagePNet):
        """The stock first stage with a pyramid that never goes below 12 pixels."""

        def __call__(self, images_normalized, images_oshapes, min_face_size=20,
                     scale_factor=0.709, threshold_pnet=0.6, nms_pnet1=0.5, nms_pnet2=0.7,
                     **kwargs):
            groups = [_pyramid(min(int(s[0]), int(s[1])), min_face_size, scale_factor)
                      for s in images_oshapes]
            if max(len(g) for g in groups) == 0:
                return np.empty((0, 6))
            scaled, scales = apply_scales(images_normalized, groups)
            n = images_normalized.shape[0]
            boxes = [upscale_bboxes(generate_bounding_box(reg, cls, threshold_pnet),
                                    np.asarray([scale] * n))
                     for (reg, cls), scale in zip((self._model(s) for s in scaled), scales)]
            boxes = [smart_nms_from_bboxes(b, threshold=nms_pnet1, method="union",
                                           initial_sort=False) for b in boxes]
            boxes = np.concatenate(boxes, axis=0) if boxes else np.empty((0, 6))
            boxes = smart_nms_from_bboxes(boxes, threshold=nms_pnet2, method="union",
                                          initial_sort=True)
            return resize_to_square(boxes)

    return _GuardedPNet


class FaceDetector:
    """MTCNN with the pyramid guard; the networks load on the first call.

    Call it with a uint8 ``(H, W, 3)`` image; it returns every face MTCNN finds (with
    ``options.min_size`` as its smallest face), before :func:`plausible`.
    """

    def __init__(self, options: DetectOptions = DetectOptions()):
        self.options = options
        self._mtcnn = None

    def _load(self):
        if self._mtcnn is None:
            from mtcnn import MTCNN
            from mtcnn.stages import StageONet, StageRNet

            self._mtcnn = MTCNN(stages=[_guarded_pnet_class()(), StageRNet(), StageONet()])
        return self._mtcnn

    def __call__(self, image: np.ndarray) -> list[Face]:
        """All faces in uint8 ``(H, W, 3)`` ``image``, in its coordinates.

        Raises:
            DetectionError: the detector itself failed.
        """
        h, w = image.shape[:2]
        factor = 1.0
        if self.options.upsample_to and min(h, w) < self.options.upsample_to:
            factor = self.options.upsample_to / min(h, w)
        work = image if factor == 1.0 else _enlarge(image, factor)
        try:
            rows = self._load().detect_faces(
                work, min_face_size=max(PNET_SIZE, self.options.min_size * factor),
                output_type="numpy", box_format="xyxy", limit_boundaries_landmarks=False)
        except Exception as e:  # anything MTCNN raises is a failure of the detector
            raise DetectionError(f"face detection failed: {e}") from e
        faces = []
        for row in np.asarray(rows, np.float64).reshape(-1, 16):
            box = tuple(float(v) for v in row[1:5])
            landmarks = row[6:16].reshape(2, 5).T + MTCNN_OFFSET  # all x, then all y
            # Boxes are inclusive index ranges: [x0, x1] covers x0 - 0.5 .. x1 + 0.5.
            box = (box[0], box[1], box[2] + 1.0, box[3] + 1.0)
            faces.append(Face(box, landmarks, float(row[5])).scaled(1.0 / factor))
        return faces


def _enlarge(image: np.ndarray, factor: float) -> np.ndarray:
    """uint8 ``(H, W, 3)`` -> about ``factor`` times larger, bicubic. The size is rounded, so
    the factor is not exact: the caller divides by ``factor`` and accepts the < 1 px error
    at the far edge (MTCNN's own landmarks are far less precise than that)."""
    from PIL import Image

    h, w = image.shape[:2]
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BICUBIC))


def _inside(inner: Face, outer: Face, fraction: float = 0.8) -> bool:
    """Whether at least ``fraction`` of ``inner``'s box lies inside ``outer``'s."""
    ix0, iy0 = max(inner.box[0], outer.box[0]), max(inner.box[1], outer.box[1])
    ix1, iy1 = min(inner.box[2], outer.box[2]), min(inner.box[3], outer.box[3])
    overlap = max(0.0, ix1 - ix0) * max(0.0, iy1 - iy0)
    area = (inner.box[2] - inner.box[0]) * (inner.box[3] - inner.box[1])
    return area > 0 and overlap >= fraction * area


def plausible(faces: Sequence[Face], shape: tuple[int, int], options: DetectOptions,
              misfit) -> tuple[list[Face], list[tuple[Face, str]]]:
    """Split detections into faces to restore and faces to skip, with the reason.

    Args:
        faces: the detector's output.
        shape: ``(H, W)`` of the image.
        options: thresholds.
        misfit: ``landmarks (5, 2) -> float``, the landmarks' residual against the template
            after the best similarity fit, as a fraction of the eye distance
            (:func:`srgan.faces.align.misfit`).

    Returns:
        ``(kept, skipped)``; ``kept`` largest first, ``skipped`` as ``(face, reason)``.
    """
    kept, skipped = [], []
    for face in sorted(faces, key=lambda f: -f.size):
        if face.score < options.score:
            skipped.append((face, f"score {face.score:.2f} < {options.score}"))
        elif face.size < options.min_size:
            skipped.append((face, f"{face.size:.0f} px < --face-min-size {options.min_size:g}"))
        elif misfit(face.landmarks) > options.max_misfit:
            skipped.append((face, f"landmarks too far from a frontal face "
                                  f"({misfit(face.landmarks):.2f} > {options.max_misfit})"))
        elif any(_inside(face, other) for other in kept):
            skipped.append((face, "inside a larger face"))
        else:
            kept.append(face)
    if options.only_center_face and kept:
        centre = np.array([shape[1] / 2, shape[0] / 2])
        nearest = min(kept, key=lambda f: np.linalg.norm(f.landmarks.mean(0) - centre))
        skipped += [(f, "not the centre face") for f in kept if f is not nearest]
        kept = [nearest]
    if options.max_faces is not None and len(kept) > options.max_faces:
        skipped += [(f, f"beyond --max-faces {options.max_faces}")
                    for f in kept[options.max_faces:]]
        kept = kept[:options.max_faces]
    return kept, skipped


def write_faces_json(path: Path, records: dict) -> None:
    """Write ``{image name: [face dicts]}`` atomically as indented JSON."""
    from srgan.files import atomic_write_bytes

    atomic_write_bytes(Path(path), json.dumps(records, indent=2).encode() + b"\n")
