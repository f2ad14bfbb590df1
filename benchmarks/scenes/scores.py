"""What the scene benchmark measures: faces only, the background, and detection.

* **Face square**: the placed face's aligned square before its roll, in HR pixels
  (``4 * side`` a side, centred on the face). LPIPS (VGG, v0.1) is computed on it, and NIQE
  over the 96x96 blocks of its centre (faces of at least 24 LR pixels; the blocks of many
  faces are pooled into one fit, :func:`srgan.evaluation.niqe.score_features`).
* **Inner face**: the axis-aligned box around the five landmarks, grown by half the eye
  distance on every side and rounded outward to whole HR pixels: brows to chin, cheek to
  cheek (about the central half of an aligned square). PSNR on its BT.601 luma, float64,
  nothing else cropped.
* **Background**: the pixels further than ``margin`` times its side from every face square
  (Chebyshev distance, HR pixels) must be byte-identical to the reference method's; so must
  every pixel outside the ``changed`` mask a method reports.
* **Detection**: detected boxes (LR pixels) are matched one to one to the placed faces'
  boxes, greedily by IoU (at least ``iou``). Recall counts the placed faces whose LR eye
  distance is at least ``min_eye``; a detection that matches no placed face, of any size,
  is a false positive.
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np

from benchmarks.scenes.compose import SCALE, PlacedFace
from srgan.evaluation import metrics, niqe
from srgan.pixels import to_unit_range


def face_square(face: PlacedFace) -> tuple[slice, slice]:
    """HR ``(rows, cols)`` of the face square."""
    x0, y0, side = face.square
    return slice(SCALE * y0, SCALE * (y0 + side)), slice(SCALE * x0, SCALE * (x0 + side))


def inner_face(face: PlacedFace, shape: tuple[int, int]) -> tuple[slice, slice]:
    """HR ``(rows, cols)`` of the inner face (module docstring), clipped to ``shape``."""
    grow = face.eye_distance / 2
    (x0, y0), (x1, y1) = face.landmarks.min(axis=0) - grow, face.landmarks.max(axis=0) + grow
    rows = slice(max(0, math.floor(SCALE * y0)), min(shape[0], math.ceil(SCALE * y1)))
    cols = slice(max(0, math.floor(SCALE * x0)), min(shape[1], math.ceil(SCALE * x1)))
    return rows, cols


def face_scores(sr: np.ndarray, hr: np.ndarray, face: PlacedFace,
                lpips: Optional[metrics.LPIPS]) -> dict[str, float]:
    """``{"psnr_y": dB on the inner face, "lpips": on the face square}`` of uint8 ``sr``
    against ``hr``, both ``(H, W, 3)``; LPIPS NaN without a network."""
    inner = inner_face(face, hr.shape[:2])
    square = face_square(face)
    distance = math.nan
    if lpips is not None:
        pair = to_unit_range(np.stack([sr[square], hr[square]]))
        distance = float(lpips(pair[:1], pair[1:])[0])
    return {"psnr_y": metrics.psnr(sr[inner], hr[inner], y_only=True), "lpips": distance}


def face_niqe_blocks(image: np.ndarray, face: PlacedFace) -> np.ndarray:
    """NIQE block features ``(n, 36)`` of the centre of the face square of ``image``
    (HR), cut to whole 96-pixel blocks; ``(0, 36)`` for a square under 96 pixels."""
    crop = image[face_square(face)]
    h, w = (n - n % niqe.BLOCK for n in crop.shape[:2])
    top, left = (crop.shape[0] - h) // 2, (crop.shape[1] - w) // 2
    return niqe.block_features(crop[top:top + h, left:left + w])


def far_from_faces(shape: tuple[int, int], faces: list[PlacedFace],
                   margin: float) -> np.ndarray:
    """Bool ``(H, W)``: HR pixels further than ``margin`` times its side from every face
    square (Chebyshev distance)."""
    far = np.ones(shape, bool)
    for face in faces:
        rows, cols = face_square(face)
        reach = math.ceil(margin * (rows.stop - rows.start))
        far[max(0, rows.start - reach):rows.stop + reach,
            max(0, cols.start - reach):cols.stop + reach] = False
    return far


def background_changes(out: np.ndarray, reference: np.ndarray, keep: np.ndarray) -> int:
    """How many pixels where ``keep`` is True differ (in any channel) between uint8
    ``out`` and ``reference`` ``(H, W, 3)``."""
    return int(np.count_nonzero(np.any(out != reference, axis=-1) & keep))


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of boxes ``a (n, 4)`` and ``b (m, 4)`` -> ``(n, m)``."""
    a, b = np.asarray(a, float).reshape(-1, 4)[:, None], np.asarray(b, float).reshape(-1, 4)[None]
    w = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    h = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    area = lambda x: (x[..., 2] - x[..., 0]) * (x[..., 3] - x[..., 1])  # noqa: E731
    union = area(a) + area(b) - w * h
    return np.where(union > 0, w * h / np.where(union > 0, union, 1), 0.0)


def match(detections: np.ndarray, faces: list[PlacedFace], threshold: float = 0.4
          ) -> tuple[list[Optional[int]], int]:
    """One-to-one greedy matching by IoU (at least ``threshold``).

    Returns:
        ``(per face: the index of its detection or None, unmatched detections)``.
    """
    overlap = iou(np.asarray([f.box for f in faces]).reshape(-1, 4), detections)
    matched: list[Optional[int]] = [None] * len(faces)
    used = set()
    for k in np.argsort(-overlap, axis=None):
        i, j = np.unravel_index(k, overlap.shape)
        if overlap[i, j] < threshold:
            break
        if matched[i] is None and j not in used:
            matched[i] = int(j)
            used.add(j)
    return matched, overlap.shape[1] - len(used)


def detection_summary(scenes: list[tuple], min_eye: float = 8.0,
                      threshold: float = 0.4) -> dict:
    """Recall and precision of detections over scenes.

    Args:
        scenes: per scene, ``(detections (n, 4) in LR pixels, the placed faces[, faces of
            the bare background (m, 4)])``. A detection matching no placed face but one of
            the background's own (a person in the background photo) is counted as a
            background face, not a false positive.
        min_eye: LR eye distance from which a placed face counts for recall.
        threshold: the IoU a match needs.

    Returns:
        ``{"eligible", "found", "recall", "detections", "false_positives",
        "false_positives_per_scene", "background_faces", "precision"}``; recall
        (precision) NaN when nothing is eligible (detected).
    """
    eligible = found = detections = false_positives = background = 0
    for boxes, faces, *bare in scenes:
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        matched, _ = match(boxes, faces, threshold)
        big = [f.eye_distance >= min_eye for f in faces]
        eligible += sum(big)
        found += sum(b and m is not None for b, m in zip(big, matched))
        detections += len(boxes)
        extra = boxes[[j for j in range(len(boxes)) if j not in set(matched)]]
        own = np.asarray(bare[0] if bare else np.empty((0, 4)), np.float64).reshape(-1, 4)
        in_background = (iou(own, extra).max(axis=0) >= threshold if len(own) and len(extra)
                         else np.zeros(len(extra), bool))
        background += int(in_background.sum())
        false_positives += int((~in_background).sum())
    scored = detections - background
    return {"eligible": eligible, "found": found,
            "recall": found / eligible if eligible else math.nan,
            "detections": detections, "false_positives": false_positives,
            "false_positives_per_scene": false_positives / len(scenes) if scenes else math.nan,
            "background_faces": background,
            "precision": 1 - false_positives / scored if scored else math.nan}
