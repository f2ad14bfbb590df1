"""Face restoration in whole photos: detect, align, restore, paste back.

What Real-ESRGAN's ``--face_enhance``, GFPGAN and CodeFormer do, with this project's models:

1. :mod:`srgan.faces.detect` finds each face and its five landmarks in the LR photo and
   drops what cannot be restored (too small, low score, far from frontal, inside another
   face).
2. For a face model trained on aligned faces (its card says ``aligned_faces``),
   :mod:`srgan.faces.align` fits the similarity transform of the landmarks onto the
   template and cuts the aligned ``n x n`` LR crop, ``n = hr_size / scale`` of the face
   model (64 for the shipped models). A face larger than the crop would lose detail if it
   were shrunk to it: it is restored at its own scale on a larger crop (``native``), or
   left to the background model (``skip``), or the first up to twice the crop and the
   second beyond (``auto``, the default; :data:`srgan.options.LARGE_FACE_LIMITS`). A
   model trained on random patches at their own scale (the shipped SRGAN, SRResNet and
   blind models) is better served by the pixels as they are: the face's square (the
   aligned crop's footprint, at the face's own scale and orientation) is cut on the pixel
   grid with :data:`CONTEXT` pixels around it, so no resampling blurs it. (Warping small
   faces up to the template, measured on the scene benchmark with the shipped SRGAN, made
   them worse than the whole photo through it.)
3. The face model upscales the crops (all of one size in one batch).
4. :mod:`srgan.faces.paste` puts each face back into the upscaled photo through the
   inverse transform, under a soft mask and with its colour matched.

The background is whatever the caller upscaled the photo with (``--model``); pixels
beyond every face's mask are left exactly as they were.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from srgan.faces import align, paste
from srgan.faces.detect import DetectOptions, Face, FaceDetector, plausible
from srgan.options import LARGE_FACE_LIMITS, FaceOptions

# LR pixels of real context around the face square of a model not trained on aligned faces
# (like predict.py's --tile-pad); its output there is cut off again.
CONTEXT = 16


@dataclass
class FaceResult:
    """One face found in a photo, and what was done with it.

    Attributes:
        face: where it is, in LR photo coordinates.
        restored: whether it was restored and pasted back.
        reason: why not, when it was not.
        transform: ``(2, 3)`` LR photo -> the LR face square, when restored.
        crop: uint8 ``(n, n, 3)``, the LR face square the face model saw (its context cut
            off).
        output: uint8 ``(n * s, n * s, 3)``, what the face model made of it.
        placement: ``(2, 3)`` upscaled photo -> ``output``, once pasted
            (:func:`srgan.faces.paste.support` gives the pixels it may have changed).
    """

    face: Face
    restored: bool
    reason: str = ""
    transform: Optional[np.ndarray] = None
    crop: Optional[np.ndarray] = field(default=None, repr=False)
    output: Optional[np.ndarray] = field(default=None, repr=False)
    placement: Optional[np.ndarray] = None

    def to_json(self) -> dict:
        record = self.face.to_json()
        record["restored"] = self.restored
        if self.reason:
            record["skipped"] = self.reason
        return record


def detect_options(options: FaceOptions) -> DetectOptions:
    """The detector's settings from the command line's."""
    return DetectOptions(min_size=options.face_min_size, score=options.face_score,
                         max_faces=options.max_faces,
                         only_center_face=options.only_center_face)


class FaceRestorer:
    """Restores the faces of LR photos onto their upscaled versions.

    Args:
        model: the face model as uint8 ``(N, n, n, 3) -> (N, n * scale, n * scale, 3)``
            (:func:`srgan.inference.faces.load_restorer` builds it from a generator).
        scale: the face model's upscaling factor.
        size: the side ``n`` of its aligned LR crop (``hr_size / scale`` on its card).
        options: what ``--face-*`` set.
        aligned: the model was trained on faces aligned to the template (module docstring).
        detector: a :class:`FaceDetector` to share; one is made from ``options`` if None.
    """

    def __init__(self, model: Callable[[np.ndarray], np.ndarray], scale: int, size: int,
                 options: FaceOptions, aligned: bool = True,
                 detector: Optional[FaceDetector] = None):
        self.model, self.scale, self.size, self.options = model, scale, size, options
        self.aligned = aligned
        self.detector = detector or FaceDetector(detect_options(options))

    def find(self, image: np.ndarray) -> tuple[list[Face], list[tuple[Face, str]]]:
        """The faces of uint8 ``(H, W, C)`` ``image`` to restore, and those skipped with why."""
        rgb = _rgb(image)
        return plausible(self.detector(rgb), rgb.shape[:2], self.detector.options,
                         align.misfit)

    def restore(self, image: np.ndarray, upscaled: np.ndarray,
                faces: Optional[tuple[list[Face], list[tuple[Face, str]]]] = None
                ) -> tuple[np.ndarray, list[FaceResult]]:
        """Paste the restored faces of ``image`` into a copy of ``upscaled``.

        Args:
            image: uint8 ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)`` or ``(H, W, 4)``, the LR photo.
            upscaled: uint8 ``(H * k, W * k, C)``, the photo upscaled by the background model
                (any integer ``k``; alpha, if any, is left alone).
            faces: ``(kept, skipped)`` as :meth:`find` returns, to reuse (video smoothing);
                found here if None.

        Returns:
            ``(output, results)``: ``output`` like ``upscaled``, ``results`` one
            :class:`FaceResult` per face found, restored ones first.
        """
        rgb = _rgb(image)
        k = upscaled.shape[0] // rgb.shape[0]
        if upscaled.shape[:2] != (rgb.shape[0] * k, rgb.shape[1] * k):
            raise ValueError(f"the upscaled image {upscaled.shape[:2]} is not an integer "
                             f"multiple of the photo {rgb.shape[:2]}")
        kept, skipped = self.find(image) if faces is None else faces
        results = [FaceResult(f, False, reason) for f, reason in skipped]
        todo = []
        for face in kept:
            m, n = self._transform(face)
            mode = self.options.large_faces
            limit = self.size * LARGE_FACE_LIMITS[mode]
            if n > limit:
                results.append(FaceResult(face, False, f"a {n} px crop, over the {limit:g} "
                                          f"px --large-faces {mode} restores"))
                continue
            todo.append(FaceResult(face, True, transform=m, crop=align.extract(rgb, m, n)))
        gray = bool(np.all(rgb[..., 0] == rgb[..., 1]) and np.all(rgb[..., 1] == rgb[..., 2]))
        pad = 0 if self.aligned else CONTEXT
        for n in sorted({r.crop.shape[0] for r in todo}):
            same = [r for r in todo if r.crop.shape[0] == n]
            # With context: the square's surroundings, cut off again after the model.
            crops = [r.crop if not pad else align.extract(
                rgb, r.transform + [[0, 0, pad], [0, 0, pad]], n + 2 * pad) for r in same]
            outs = self.model(np.stack(crops))
            edge = pad * self.scale
            for r, sr in zip(same, outs):
                r.output = sr[edge:sr.shape[0] - edge, edge:sr.shape[1] - edge]
        out = upscaled.copy()
        # Small faces first, so a large face that overlaps one is pasted over it.
        for r in sorted(todo, key=lambda r: r.face.size):
            # Output pixels -> LR photo (/k) -> aligned LR crop (m) -> face model output (x s).
            r.placement = np.hstack([r.transform[:, :2] * self.scale / k,
                                     r.transform[:, 2:] * self.scale])
            paste.paste(out, r.output, r.placement, gray=gray)
        return out, todo + results

    def _transform(self, face: Face) -> tuple[np.ndarray, int]:
        """The transform of ``face`` onto its LR square and the square's side.

        Aligned models: the template at the face model's crop size, or for a face larger
        than that, a crop as much larger, so the face keeps its scale. Other models: the
        aligned crop's footprint at the face's own scale, as an axis-aligned square on the
        pixel grid (a pure integer shift: the crop is the pixels as they are).
        """
        m = align.similarity(face.landmarks, align.template(self.size))
        s = align.scale_of(m)
        if self.aligned:
            if s >= 1:
                return m, self.size
            n = math.ceil(self.size / s)
            return align.similarity(face.landmarks, align.template(n)), n
        n = math.ceil(self.size / s)
        centre = align.apply(align.invert(m), np.array([[self.size / 2, self.size / 2]]))[0]
        x0, y0 = np.round(centre - n / 2)
        return np.array([[1.0, 0.0, -x0], [0.0, 1.0, -y0]]), n


def _rgb(image: np.ndarray) -> np.ndarray:
    """uint8 ``(H, W)``, ``(H, W, 1|3|4)`` -> ``(H, W, 3)``."""
    if image.ndim == 2:
        image = image[..., None]
    return np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image[..., :3]


def save_faces(folder: Path, stem: str, results: list[FaceResult],
               png_compression: int = 1) -> None:
    """Write each restored face as GFPGAN does: ``folder/cropped_faces/STEM_NN.png`` (the
    aligned LR input), ``restored_faces/STEM_NN.png`` and ``cmp/STEM_NN.png`` (the input,
    enlarged to the restored size with nearest neighbours, beside the restoration)."""
    from srgan import files

    for i, r in enumerate(x for x in results if x.restored):
        name = f"{stem}_{i:02d}.png"
        k = r.output.shape[0] // r.crop.shape[0]
        enlarged = np.repeat(np.repeat(r.crop, k, axis=0), k, axis=1)
        for sub, image in (("cropped_faces", r.crop), ("restored_faces", r.output),
                           ("cmp", np.concatenate([enlarged, r.output], axis=1))):
            target = files.check_writable_dir(Path(folder) / sub)
            files.atomic_save_image(files.safe_output_path(target, name), image,
                                 png_compression=png_compression)


def describe(results: list[FaceResult]) -> str:
    """One line for a photo's faces: how many were restored, and why others were not."""
    done = sum(r.restored for r in results)
    skipped = [r.reason for r in results if not r.restored]
    text = f"{done} face{'s' if done != 1 else ''} restored"
    if skipped:
        text += f", {len(skipped)} skipped ({'; '.join(skipped)})"
    return text
