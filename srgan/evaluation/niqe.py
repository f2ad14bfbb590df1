"""NIQE: the no-reference "Natural Image Quality Evaluator" (Mittal, Soundararajan and
Bovik, "Making a 'completely blind' image quality analyzer", IEEE SPL 2013). Lower is
more natural. It needs no ground truth, so it scores real photos.

The score is the distance between two multivariate Gaussians over 36 local statistics:
one fitted once to pristine natural images (the published model), one fitted to the
image's own blocks. Computed as the authors' MATLAB release and BasicSR compute it:

1. Luma: RGB -> BT.601 ``Y`` in ``[16, 235]`` (MATLAB ``rgb2ycbcr``,
   :func:`srgan.evaluation.metrics.rgb_to_y`), rounded to integers; grey images as they are.
   ``crop_border`` pixels go at each border; then the right and bottom edges are cut to a
   multiple of the 96-pixel block (blocks do not overlap).
2. At two scales, the image and its half (MATLAB ``imresize(0.5)``: antialiased bicubic,
   symmetric borders, not rounded), the mean-subtracted contrast-normalised coefficients
   ``(Y - mu) / (sigma + 1)``, ``mu`` and ``sigma`` from the published 7x7 Gaussian window
   with replicated borders, and exact zeros where the window sees one value; cut into
   blocks of 96 and 48 pixels.
3. Per block, per scale, 18 features: a generalised Gaussian fitted to the coefficients
   (shape, mean spread), and an asymmetric generalised Gaussian fitted to the products of
   horizontally, vertically and diagonally adjacent coefficients (shape, mean, left and
   right spreads each; neighbours wrap around inside the block). The shapes are found by
   moment matching on the grid ``0.2, 0.201, ..., 10``.
4. ``sqrt((mu_p - mu)^T pinv((C_p + C) / 2) (mu_p - mu))`` with ``mu`` the mean of the
   block features (ignoring undefined ones) and ``C`` their covariance over the blocks whose
   features are all defined.

The pristine model (``niqe_pris_params.npz``: ``mu_pris_param`` ``(1, 36)``,
``cov_pris_param`` ``(36, 36)`` and ``gaussian_window`` ``(7, 7)``) is the one BasicSR
publishes, ``basicsr/metrics/niqe_pris_params.npz`` of https://github.com/XPixelGroup/BasicSR
(Apache License 2.0), itself the parameters of the authors' MATLAB release; the file is
vendored unchanged (see NOTICE). The code here is this project's own.

Everything runs in float64 with numpy alone; a 256x256 image takes 15-25 ms on a busy
2-core CPU. It agrees with
BasicSR's float32 ``calculate_niqe`` to within 0.001 on the images of
``tests/test_niqe.py``, and gives 5.72957 on BasicSR's ``baboon.png``, where BasicSR
documents 5.72957 for its own code and for the MATLAB release.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import NamedTuple

import numpy as np

from srgan.evaluation.metrics import rgb_to_y

PRISTINE_PARAMS = Path(__file__).with_name("niqe_pris_params.npz")
BLOCK = 96
FEATURES = 36
SHAPE_GRID = 0.2 + 0.001 * np.arange(9801)  # 0.2 .. 10, the MATLAB release's grid
NEIGHBOURS = ((0, 1), (1, 0), (1, 1), (1, -1))  # horizontal, vertical, two diagonals
_GRID_CHUNK = 256  # rows of the (rows, grid) matching matrix built at a time


class PristineModel(NamedTuple):
    """The Gaussian fitted to pristine images: ``mean (36,)``, ``cov (36, 36)``, and the
    ``window (7, 7)`` that weights local means and deviations."""

    mean: np.ndarray
    cov: np.ndarray
    window: np.ndarray


@functools.lru_cache(maxsize=1)
def pristine_model() -> PristineModel:
    """The published pristine model, read once from :data:`PRISTINE_PARAMS`."""
    with np.load(PRISTINE_PARAMS, allow_pickle=False) as params:
        return PristineModel(params["mu_pris_param"].reshape(FEATURES),
                             params["cov_pris_param"], params["gaussian_window"])


def _gamma(x: np.ndarray) -> np.ndarray:
    """Euler's gamma function, elementwise (NaN stays NaN)."""
    return np.vectorize(lambda v: math.gamma(v) if np.isfinite(v) else math.nan,
                        otypes=[np.float64])(x)


@functools.lru_cache(maxsize=1)
def _shape_ratios() -> np.ndarray:
    """``Gamma(2/a)^2 / (Gamma(1/a) Gamma(3/a))`` over :data:`SHAPE_GRID`: what
    ``E[|x|]^2 / E[x^2]`` is for a generalised Gaussian of shape ``a``."""
    inv = 1.0 / SHAPE_GRID
    return _gamma(2 * inv) ** 2 / (_gamma(inv) * _gamma(3 * inv))


def _match_shape(ratio: np.ndarray) -> np.ndarray:
    """Grid shapes whose moment ratio is nearest ``ratio`` ``(n,)``; a NaN ratio gets the
    grid's first shape, as the MATLAB release's ``min`` gives."""
    table = _shape_ratios()
    best = [np.argmin((table[None] - ratio[i:i + _GRID_CHUNK, None]) ** 2, axis=1)
            for i in range(0, len(ratio), _GRID_CHUNK)]
    return SHAPE_GRID[np.concatenate(best)] if best else np.empty(0)


def fit_aggd(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Asymmetric generalised Gaussian fitted to each row by moment matching.

    Args:
        samples: ``(n, m)`` float, ``n`` independent sample sets.

    Returns:
        ``(shape, left_spread, right_spread)``, each ``(n,)`` float64. A row without
        negative (or positive) samples has a NaN left (right) spread.
    """
    x = np.asarray(samples, np.float64)
    neg, pos = x < 0, x > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        left = np.sqrt(np.sum(np.where(neg, x * x, 0), axis=1) / neg.sum(axis=1))
        right = np.sqrt(np.sum(np.where(pos, x * x, 0), axis=1) / pos.sum(axis=1))
        g = left / right
        r = np.mean(np.abs(x), axis=1) ** 2 / np.mean(x * x, axis=1)
        ratio = r * (g ** 3 + 1) * (g + 1) / (g ** 2 + 1) ** 2
    shape = _match_shape(ratio)
    to_spread = np.sqrt(_gamma(1 / shape) / _gamma(3 / shape))
    return shape, left * to_spread, right * to_spread


def _block_features(blocks: np.ndarray) -> np.ndarray:
    """18 features of each block of normalised coefficients ``(n, b, b)`` -> ``(n, 18)``."""
    n = len(blocks)
    shape, left, right = fit_aggd(blocks.reshape(n, -1))
    columns = [shape, (left + right) / 2]
    for shift in NEIGHBOURS:
        products = blocks * np.roll(blocks, shift, axis=(1, 2))
        shape, left, right = fit_aggd(products.reshape(n, -1))
        mean = (right - left) * _gamma(2 / shape) / _gamma(1 / shape)
        columns += [shape, mean, left, right]
    return np.stack(columns, axis=1)


def _neighbours(image: np.ndarray, k: int, axis: int) -> list[np.ndarray]:
    """The ``k`` copies of ``image`` shifted by ``-k//2 .. k//2`` along ``axis``, borders
    replicated: element ``j`` holds each pixel's ``j``-th neighbour."""
    pad = [(0, 0)] * image.ndim
    pad[axis] = (k // 2, k // 2)
    padded = np.pad(image, pad, mode="edge")
    n = image.shape[axis]
    return [np.take(padded, np.arange(j, j + n), axis=axis) for j in range(k)]


def _smooth(image: np.ndarray, taps: np.ndarray) -> np.ndarray:
    """``image (H, W)`` filtered with ``outer(taps, taps)``, borders replicated."""
    for axis in (0, 1):
        image = sum(t * v for t, v in zip(taps, _neighbours(image, len(taps), axis)))
    return image


def _flat(image: np.ndarray, k: int) -> np.ndarray:
    """``(H, W)`` bool: the ``k x k`` neighbourhood (borders replicated) holds one value."""
    hi = lo = image
    for axis in (0, 1):
        hi = functools.reduce(np.maximum, _neighbours(hi, k, axis))
        lo = functools.reduce(np.minimum, _neighbours(lo, k, axis))
    return hi == lo


def window_taps(window: np.ndarray) -> np.ndarray:
    """The 1-D taps ``(k,)`` of a separable window ``(k, k)`` summing to 1, which is
    ``outer(taps, taps)``; ValueError when it is not separable."""
    taps = window.sum(axis=1)
    if not np.allclose(np.outer(taps, taps), window, rtol=0, atol=1e-12):
        raise ValueError(f"{PRISTINE_PARAMS}: the Gaussian window is not separable")
    return taps


def normalised_coefficients(image: np.ndarray, taps: np.ndarray) -> np.ndarray:
    """Mean-subtracted contrast-normalised coefficients ``(Y - mu) / (sigma + 1)`` of a
    float ``(H, W)`` image in ``[0, 255]``: ``mu`` and ``sigma`` the local mean and standard
    deviation ``sqrt(|E[Y^2] - mu^2|)`` under the window ``outer(taps, taps)``, borders
    replicated.

    Where the whole neighbourhood is flat both ``Y - mu`` and ``sigma`` are set to an
    exact 0: in float64 they come out as rounding noise of about 1e-13, whose signs would
    then steer the spread fits (BasicSR's float32 storage rounds that noise to 0 too).

    Returns:
        ``(H, W)`` float64.
    """
    image = np.asarray(image, np.float64)
    mu = _smooth(image, taps)
    sigma = np.sqrt(np.abs(_smooth(image * image, taps) - mu * mu))
    flat = _flat(image, len(taps))
    mu[flat], sigma[flat] = image[flat], 0.0
    return (image - mu) / (sigma + 1)


def _cubic(x: np.ndarray) -> np.ndarray:
    """Keys' cubic convolution kernel with ``a = -0.5`` (MATLAB's ``imresize``)."""
    x = np.abs(x)
    return np.where(x <= 1, 1.5 * x ** 3 - 2.5 * x ** 2 + 1,
                    np.where(x <= 2, -0.5 * x ** 3 + 2.5 * x ** 2 - 4 * x + 2, 0.0))


def halve(image: np.ndarray) -> np.ndarray:
    """MATLAB ``imresize(image, 0.5)``: antialiased bicubic (the cubic stretched to the
    output grid), symmetric borders; float ``(H, W)`` with even ``H`` and ``W`` ->
    ``(H/2, W/2)`` float64, not rounded."""
    # Output pixel i is centred on input 2i + 0.5; taps at distances +-0.5 .. +-3.5.
    taps = _cubic((np.arange(8) - 3.5) / 2)
    taps /= taps.sum()
    out = np.asarray(image, np.float64)
    for axis in (0, 1):
        out = np.moveaxis(out, axis, 0)
        padded = np.pad(out, ((3, 4),) + ((0, 0),) * (out.ndim - 1), mode="symmetric")
        n = out.shape[0] // 2
        out = np.moveaxis(sum(t * padded[k:k + 2 * n:2] for k, t in enumerate(taps)), 0, axis)
    return out


def to_luma(image: np.ndarray) -> np.ndarray:
    """uint8 or float ``(H, W, 3)`` RGB, ``(H, W, 1)`` or ``(H, W)`` grey in ``[0, 255]`` ->
    ``(H, W)`` float64 rounded to integers: BT.601 ``Y`` of RGB, grey as it is."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 3:
        image = rgb_to_y(image)
    elif image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    elif image.ndim != 2:
        raise ValueError(f"NIQE takes an (H, W, 3), (H, W, 1) or (H, W) image, "
                         f"got {image.shape}")
    return np.round(np.asarray(image, np.float64))


def block_features(image: np.ndarray, crop_border: int = 0) -> np.ndarray:
    """The NIQE features of every 96x96 block of an image (steps 1-3 of the module
    docstring).

    Args:
        image: ``(H, W, 3)`` RGB, or ``(H, W, 1)`` / ``(H, W)`` grey, in ``[0, 255]``.
        crop_border: pixels removed at each border first.

    Returns:
        ``(n, 36)`` float64, one row per block, NaN where a feature is undefined (a flat
        block); ``n = floor(H' / 96) * floor(W' / 96)`` after the crop, 0 for smaller images.
    """
    y = to_luma(image)
    if crop_border:
        y = y[crop_border:-crop_border, crop_border:-crop_border]
    rows, cols = y.shape[0] // BLOCK, y.shape[1] // BLOCK
    if rows * cols == 0:
        return np.empty((0, FEATURES))
    y = y[:rows * BLOCK, :cols * BLOCK]
    taps = window_taps(pristine_model().window)
    scales = []
    for size in (BLOCK, BLOCK // 2):
        coeffs = normalised_coefficients(y, taps)
        blocks = coeffs.reshape(rows, size, cols, size).swapaxes(1, 2).reshape(-1, size, size)
        scales.append(_block_features(blocks))
        y = halve(y)
    return np.concatenate(scales, axis=1)


def score_features(features: np.ndarray) -> float:
    """NIQE of a set of block features ``(n, 36)`` (step 4 of the module docstring), which
    may come from several images or regions: one Gaussian is fitted to them all.

    Returns:
        The score, ``>= 0``; NaN when fewer than two blocks have every feature defined.
    """
    features = np.asarray(features, np.float64).reshape(-1, FEATURES)
    complete = features[~np.isnan(features).any(axis=1)]
    if len(complete) < 2:
        return math.nan
    model = pristine_model()
    diff = model.mean - np.nanmean(features, axis=0)
    cov = (model.cov + np.cov(complete, rowvar=False)) / 2
    return float(np.sqrt(diff @ np.linalg.pinv(cov) @ diff))


def niqe(image: np.ndarray, crop_border: int = 0) -> float:
    """NIQE of one image (lower is more natural), as BasicSR's ``calculate_niqe`` with
    ``convert_to='y'`` gives it for the same RGB image.

    Args:
        image: ``(H, W, 3)`` RGB, or ``(H, W, 1)`` / ``(H, W)`` grey, uint8 or float in
            ``[0, 255]``.
        crop_border: pixels removed at each border first (SR papers crop the scale).

    Returns:
        The score; NaN when fewer than two 96x96 blocks with defined features fit (images
        under 192x96 after the crop, flat images).
    """
    return score_features(block_features(image, crop_border))
