"""Paste a restored face back into the upscaled photo: inverse warp, soft mask, colour match.

The restored face is an aligned square ``S`` pixels wide. It goes back through the exact
inverse of its alignment (:mod:`srgan.faces.align`), over a soft mask defined in the
face's own frame: 0 on the outer :data:`INSET` of the square (the generator's border
pixels, which saw zero padding), rising smoothly over the next :data:`FEATHER` of it to 1
inside. Both are fractions of the square, so the feather grows with the face, as GFPGAN's
eroded and blurred mask does, and the mask is exactly 0 beyond it: the output there is
the background, byte for byte.

Before blending, the face's colour is matched to the background under the mask (in CIE
Lab: the mean of L, and the mean and spread of a and b, weighted by the mask), so neither a
colour shift of the face model nor a box around the face shows. L's spread is left as the
face model made it: that is where its detail is.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
from PIL import Image

from srgan.faces import align

INSET = 1 / 64
FEATHER = 1 / 8


def _ramp(u: np.ndarray, size: float) -> np.ndarray:
    """The mask along one axis of the face square, ``u`` in its pixel units: 0 outside
    ``[inset, size - inset]``, a smoothstep over ``FEATHER * size`` inside that."""
    inset, feather = INSET * size, FEATHER * size
    t = np.clip(np.minimum(u - inset, size - inset - u) / feather, 0.0, 1.0)
    return t * t * (3 - 2 * t)


def face_mask(points: np.ndarray, size: float) -> np.ndarray:
    """The soft mask at ``points (..., 2)``, in the coordinates of a face square ``size``
    pixels wide: float32 ``(...)`` in [0, 1]."""
    return (_ramp(points[..., 0], size) * _ramp(points[..., 1], size)).astype(np.float32)


def footprint(m: np.ndarray, size: float, shape: tuple[int, int]) -> Optional[tuple]:
    """The pixel box ``(x0, y0, x1, y1)`` of image ``shape (H, W)`` that the face square
    covers under ``m`` (image -> square), clipped to the image; None if it misses it."""
    corners = align.apply(align.invert(m), np.array([[0, 0], [size, 0], [0, size],
                                                     [size, size]]))
    x0, y0 = np.floor(corners.min(0)).astype(int)
    x1, y1 = np.ceil(corners.max(0)).astype(int)
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, shape[1]), min(y1, shape[0])
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def support(m: np.ndarray, size: float, shape: tuple[int, int]) -> np.ndarray:
    """bool ``(H, W)``: the pixels of an image of ``shape`` where the mask of a face square
    ``size`` wide, placed by ``m`` (image -> square), is above 0: all that :func:`paste`
    may change."""
    out = np.zeros(shape, bool)
    box = footprint(m, size, shape)
    if box is not None:
        x0, y0, x1, y1 = box
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float64) + 0.5
        out[y0:y1, x0:x1] = face_mask(np.stack([xs, ys], -1) @ m[:, :2].T + m[:, 2], size) > 0
    return out


def _lab_match(face: np.ndarray, background: np.ndarray, weight: np.ndarray,
               gray: bool) -> np.ndarray:
    """``face`` float ``(h, w, 3)`` in [0, 255] with its colour statistics under
    ``weight (h, w)`` moved to ``background``'s (see the module docstring)."""
    from skimage import color

    total = weight.sum()
    if total <= 0:
        return face
    f_lab, b_lab = color.rgb2lab(face / 255.0), color.rgb2lab(background / 255.0)
    w = weight[..., None] / total

    def stats(lab):
        mean = (lab * w).sum((0, 1))
        return mean, np.sqrt(((lab - mean) ** 2 * w).sum((0, 1)))

    (fm, fs), (bm, bs) = stats(f_lab), stats(b_lab)
    out = f_lab - fm
    spread = np.ones(3)
    if not gray:
        spread[1:] = np.where(fs[1:] > 1e-3, bs[1:] / np.maximum(fs[1:], 1e-3), 1.0)
    out = out * spread + bm
    rgb = color.lab2rgb(out) * 255.0
    if gray:  # keep R = G = B exactly
        rgb = np.repeat(rgb.mean(-1, keepdims=True), 3, axis=-1)
    return rgb


def paste(out: np.ndarray, face: np.ndarray, m: np.ndarray, gray: bool = False,
          match_colour: bool = True) -> Optional[tuple[int, int, int, int]]:
    """Blend the aligned ``face`` into ``out`` in place.

    Args:
        out: uint8 ``(H, W, C)``, C >= 3, the upscaled photo; only its first 3 channels
            change, and only inside the mask.
        face: uint8 ``(S, S, 3)``, the restored aligned face.
        m: ``(2, 3)`` transform from ``out``'s coordinates to ``face``'s.
        gray: the photo is grayscale (and so is ``face``): colour matching keeps R = G = B.
        match_colour: match the face's colour to ``out`` under the mask first.

    Returns:
        The box ``(x0, y0, x1, y1)`` of ``out`` that may have changed, or None.
    """
    size = face.shape[0]
    box = footprint(m, size, out.shape[:2])
    if box is None:
        return None
    x0, y0, x1, y1 = box
    # Pixel centres of the box, in the face square's coordinates.
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float64) + 0.5
    weight = face_mask(np.stack([xs, ys], -1) @ m[:, :2].T + m[:, 2], size)
    if not weight.any():
        return None
    # The face resampled onto the box: Pillow maps box pixel (x, y) to face point
    # m (x + x0, y + y0), with the same half-pixel centres.
    local = m @ np.array([[1, 0, x0], [0, 1, y0], [0, 0, 1]], np.float64)
    warped = np.asarray(Image.fromarray(face).transform(
        (x1 - x0, y1 - y0), Image.Transform.AFFINE, data=tuple(local.ravel()),
        resample=Image.Resampling.BICUBIC), np.float64)
    region = out[y0:y1, x0:x1, :3]
    background = region.astype(np.float64)
    if match_colour:
        warped = _lab_match(warped, background, weight, gray)
    blended = background + weight[..., None] * (warped - background)
    changed = weight > 0
    region[changed] = np.clip(np.round(blended[changed]), 0, 255).astype(np.uint8)
    return box
