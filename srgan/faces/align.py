"""Alignment: a similarity transform of five landmarks onto a fixed template, and its warps.

A transform is a float ``(2, 3)`` matrix ``[A | t]`` mapping continuous pixel coordinates
``(x, y)`` of one image to another: ``p' = A p + t``, with ``A = s R`` (rotation ``R``,
uniform scale ``s``, no reflection). Coordinates put pixel centres at half-integers (pixel
``(i, j)`` covers ``[j, j + 1) x [i, i + 1)``), which is Pillow's convention for
``Image.transform`` and makes scaling exact: the same point is at ``k p`` in an image ``k``
times as large, so the transform between the HR versions of two images is
``[A | k t]`` (:func:`scaled`). Warps use Pillow, already a dependency, and the inverse
of a transform is exact (:func:`invert`), so a face cut out by :func:`extract` goes back
to the same place.

The template (:data:`TEMPLATE`) is where the detector finds the landmarks of the faces
this project trains on, on average: it was measured by ``scripts/measure_face_template.py``
(see the numbers' comment), so an aligned crop frames a face the way the training faces
are framed.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

# Landmarks (x, y) of the aligned 64x64 LR crop (the shipped models' LR size): left eye,
# right eye, nose, left and right mouth corner. Measured with
# `python -m scripts.measure_face_template --data FACES_HQ` on the 131 training faces of
# the high-quality face set (its 14 validation faces held out as train.py holds them out):
# each prepared as for training (centre square, 256 px), the largest face's landmarks from
# srgan.faces.detect on that image, divided by 4 and averaged over the faces. Their
# standard deviation over the faces was 0.4-0.5 px for the eyes, 1.0-1.3 px for the mouth
# corners and 1.4-1.9 px for the nose.
TEMPLATE_SIZE = 64
TEMPLATE = np.array([[24.21, 30.43],
                     [39.85, 30.39],
                     [31.66, 40.21],
                     [24.72, 46.59],
                     [39.17, 46.60]])


def template(size: int) -> np.ndarray:
    """:data:`TEMPLATE` for an aligned crop ``size`` pixels wide: ``(5, 2)``."""
    return TEMPLATE * (size / TEMPLATE_SIZE)


def similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The least-squares similarity transform (rotation, uniform scale, shift; no
    reflection) taking points ``src`` to ``dst`` (Umeyama 1991).

    Args:
        src, dst: float ``(N, 2)``, ``N >= 2``.

    Returns:
        ``(2, 3)`` ``[A | t]`` minimising ``sum |A src_i + t - dst_i|^2``.
    """
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s0, d0 = src - mu_s, dst - mu_d
    # As complex numbers a similarity is multiplication by one complex number.
    zs, zd = s0[:, 0] + 1j * s0[:, 1], d0[:, 0] + 1j * d0[:, 1]
    c = np.vdot(zs, zd) / np.vdot(zs, zs).real
    a = np.array([[c.real, -c.imag], [c.imag, c.real]])
    return np.hstack([a, (mu_d - a @ mu_s)[:, None]])


def apply(m: np.ndarray, points: np.ndarray) -> np.ndarray:
    """``(N, 2)`` points mapped by ``(2, 3)`` transform ``m``."""
    return np.asarray(points, np.float64) @ m[:, :2].T + m[:, 2]


def invert(m: np.ndarray) -> np.ndarray:
    """The exact inverse of ``(2, 3)`` transform ``m``."""
    a_inv = np.linalg.inv(m[:, :2])
    return np.hstack([a_inv, (-a_inv @ m[:, 2])[:, None]])


def scale_of(m: np.ndarray) -> float:
    """The uniform scale ``s`` of a similarity transform."""
    return float(np.sqrt(abs(np.linalg.det(m[:, :2]))))


def scaled(m: np.ndarray, k: float) -> np.ndarray:
    """``m`` between the same two images each ``k`` times as large: ``[A | k t]``."""
    return np.hstack([m[:, :2], m[:, 2:] * k])


def misfit(landmarks: np.ndarray) -> float:
    """How far ``landmarks (5, 2)`` are from a similar copy of the frontal template: the
    RMS residual of the best similarity fit, over the template's eye distance. About 0.1
    for frontal faces; profiles and non-faces score higher."""
    t = TEMPLATE
    m = similarity(t, landmarks)
    fitted = invert(m)
    residual = apply(fitted, landmarks) - t
    return float(np.sqrt((residual ** 2).sum(1).mean()) / np.linalg.norm(t[1] - t[0]))


def _to_pil(image: np.ndarray) -> Image.Image:
    return Image.fromarray(image[..., 0] if image.shape[2] == 1 else image)


def _from_pil(image: Image.Image, channels: int) -> np.ndarray:
    out = np.asarray(image)
    return out[..., None] if channels == 1 else out


def warp(image: np.ndarray, m: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The ``size = (w, h)`` image whose point ``m p`` shows ``image``'s point ``p``.

    Bicubic. Where ``m`` shrinks (scale under 1), the image is first reduced with an
    antialiased Lanczos filter to about the target scale, so no detail aliases. Points
    outside ``image`` come out black: :func:`extract` pads first.

    Args:
        image: uint8 ``(H, W, C)``, C in 1, 3, 4.
        m: ``(2, 3)`` transform from ``image`` to the output.
        size: output ``(w, h)``.

    Returns:
        uint8 ``(h, w, C)``.
    """
    s = scale_of(m)
    pil = _to_pil(image)
    if s < 1:
        h, w = image.shape[:2]
        reduced = (max(1, round(w * s)), max(1, round(h * s)))
        pil = pil.resize(reduced, Image.Resampling.LANCZOS)
        # The reduced image's coordinates are the original's times (reduced / original).
        kx, ky = reduced[0] / w, reduced[1] / h
        m = m @ np.array([[1 / kx, 0, 0], [0, 1 / ky, 0], [0, 0, 1]])
    inv = invert(m)
    out = pil.transform(size, Image.Transform.AFFINE, data=tuple(inv.ravel()),
                        resample=Image.Resampling.BICUBIC)
    return _from_pil(out, image.shape[2])


def extract(image: np.ndarray, m: np.ndarray, size: int, margin: int = 4) -> np.ndarray:
    """The aligned ``size x size`` crop of ``image`` under transform ``m``.

    Parts of the crop outside the image are filled by mirroring the image at its border, so
    the model sees no black edge around a face cut by the image border.

    Args:
        image: uint8 ``(H, W, C)``.
        m: ``(2, 3)`` transform from ``image`` to the crop.
        size: crop side.
        margin: extra source pixels taken around the crop's footprint for the filter.

    Returns:
        uint8 ``(size, size, C)``.
    """
    corners = apply(invert(m), np.array([[0, 0], [size, 0], [0, size], [size, size]]))
    lo = np.floor(corners.min(0)).astype(int) - margin
    hi = np.ceil(corners.max(0)).astype(int) + margin
    h, w = image.shape[:2]
    pad = [(max(0, -lo[1]), max(0, hi[1] - h)), (max(0, -lo[0]), max(0, hi[0] - w))]
    x0, y0 = max(lo[0], 0), max(lo[1], 0)
    region = image[y0:min(hi[1], h), x0:min(hi[0], w)]
    if region.size == 0:
        raise ValueError(f"the aligned crop lies wholly outside the {w}x{h} image")
    region = np.pad(region, pad + [(0, 0)], mode="symmetric")
    # The region's origin sits at image point (x0 - pad_left, y0 - pad_top).
    ox, oy = x0 - pad[1][0], y0 - pad[0][0]
    shifted = m @ np.array([[1, 0, ox], [0, 1, oy], [0, 0, 1]], np.float64)
    return warp(region, shifted, (size, size))
