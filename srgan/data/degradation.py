"""Real-ESRGAN's high-order degradation: an HR face -> a realistic LR (Wang et al. 2021).

Real low-resolution photos have been blurred, resized, noised and JPEG-compressed, often
more than once. :func:`realesrgan` synthesises such an LR from an HR image as the paper's
sec. 3 and its public training options (``train_realesrgan_x4plus.yml``) do:

1. two passes (:data:`FIRST`, :data:`SECOND`) of
   blur (:mod:`srgan.data.kernels`; the second pass with probability 0.8),
   random resize (up, down or keep; area, bilinear or bicubic),
   noise (Gaussian or Poisson, half each; gray, i.e. the same in every channel, 40%),
   JPEG (quality 30-95);
2. in random order: [resize to the LR size + a final sinc filter (80%, else none)] and
   one more JPEG.

The first pass resizes relative to the HR size, the second relative to the LR size, as
in Real-ESRGAN. Poisson noise follows BasicSR: ``poisson(x * v) / v - x``, ``v`` the
number of distinct values rounded up to a power of two, times a random scale.
Differences: TensorFlow's resize kernels (bicubic a = -0.5, PyTorch's is -0.75) and
libjpeg with integer qualities stand in for PyTorch's ``interpolate`` and DiffJPEG.

Every random choice is drawn from one stateless seed ``(2,)``, so the LR is a pure
function of (HR, seed): the training stream stays a function of (seed, position)
(:mod:`srgan.data.stream`) and evaluation sets are fixed by ``--seed``.

:func:`sample_grid` draws a 4 x 4 grid of 16 degraded LR samples of one face (each
enlarged by nearest neighbour to the HR size): ``python -m scripts.degradation_grid IMAGE
-o grid.png`` (:func:`srgan.cli.degradation_grid_main`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from srgan.data.kernels import (BlurRanges, filter2d, final_sinc_kernel, random_kernel, split,
                                uniform)

RESIZE_METHODS = ("area", "bilinear", "bicubic")
FINAL_SINC_PROB = 0.8
# Unsharp masking of the HR target (BasicSR's USMSharp: radius 50, weight 0.5, threshold
# 10): a 51-tap Gaussian whose sigma is OpenCV's for that size (sigma 0 -> 8.0).
USM_SIZE, USM_SIGMA, USM_WEIGHT, USM_THRESHOLD = 51, 8.0, 0.5, 10.0


@dataclass(frozen=True)
class Stage:
    """One degradation pass: what it draws from. Noise sigmas are in 8-bit levels."""

    blur: BlurRanges
    blur_prob: float
    resize_probs: tuple[float, float, float]  # up, down, keep
    resize_range: tuple[float, float]
    gaussian_noise_prob: float
    noise_sigma: tuple[float, float]
    poisson_scale: tuple[float, float]
    gray_noise_prob: float
    jpeg_quality: tuple[int, int]


FIRST = Stage(BlurRanges(), 1.0, (0.2, 0.7, 0.1), (0.15, 1.5), 0.5, (1, 30), (0.05, 3.0),
              0.4, (30, 95))
SECOND = Stage(BlurRanges(sigma=(0.2, 1.5)), 0.8, (0.3, 0.4, 0.3), (0.3, 1.2), 0.5, (1, 25),
               (0.05, 2.5), 0.4, (30, 95))


def _coin(seed, prob: float):
    return uniform(seed, 0.0, 1.0) < prob


def resize(image, size, seed):
    """``(H, W, C)`` -> ``(size[0], size[1], C)`` by area, bilinear or bicubic, uniformly
    (no antialiasing, like PyTorch's ``interpolate``)."""
    index = tf.random.stateless_uniform([], seed, 0, len(RESIZE_METHODS), dtype=tf.int32)
    return tf.switch_case(index, [lambda m=m: tf.image.resize(image, size, method=m)
                                  for m in RESIZE_METHODS])


def random_resize(image, reference, stage: Stage, seed):
    """Resize to ``reference`` (int32 ``(2,)``) times a factor drawn from ``stage``: above
    1 (up), below 1 (down) or exactly 1 (keep), each with its probability."""
    s_kind, s_up, s_down, s_method = split(seed, 4)
    low, high = stage.resize_range
    up, down, _ = stage.resize_probs
    u = uniform(s_kind, 0.0, 1.0)
    factor = tf.where(u < up, uniform(s_up, 1.0, high),
                      tf.where(u < up + down, uniform(s_down, low, 1.0), 1.0))
    size = tf.maximum(tf.cast(tf.cast(reference, tf.float32) * factor, tf.int32), 1)
    return resize(image, size, s_method)


def _poisson(image, seed):
    """BasicSR's Poisson noise of ``image`` ``(H, W, C)`` in [0, 1], scale 1."""
    distinct = tf.size(tf.unique(tf.reshape(image, [-1])).y)
    levels = tf.pow(2.0, tf.math.ceil(tf.math.log(tf.cast(distinct, tf.float32)) / math.log(2)))
    counts = tf.random.stateless_poisson(tf.shape(image), seed, tf.maximum(image, 0.0) * levels,
                                         dtype=tf.float32)
    return counts / levels - image


def add_noise(image, stage: Stage, seed):
    """Gaussian or Poisson noise, colour or gray, drawn from ``stage``; ``(H, W, 3)``."""
    s_kind, s_gray, s_sigma, s_scale, s_noise = split(seed, 5)
    gray = _coin(s_gray, stage.gray_noise_prob)
    shape = tf.shape(image)

    def gaussian():
        sigma = uniform(s_sigma, *stage.noise_sigma) / 255.0
        noise = tf.random.stateless_normal(shape, s_noise) * sigma
        return tf.where(gray, noise[..., :1], noise)

    def poisson():
        return uniform(s_scale, *stage.poisson_scale) * tf.cond(
            gray, lambda: _poisson(tf.image.rgb_to_grayscale(image), s_noise),
            lambda: _poisson(image, s_noise))

    noise = tf.cond(_coin(s_kind, stage.gaussian_noise_prob), gaussian, poisson)
    return image + noise


def jpeg(image, quality: tuple[int, int], seed):
    """Clip to [0, 1] and JPEG-compress at an integer quality in ``quality`` (inclusive)."""
    q = tf.random.stateless_uniform([], seed, quality[0], quality[1] + 1, dtype=tf.int32)
    out = tf.image.adjust_jpeg_quality(tf.clip_by_value(image, 0.0, 1.0), q)
    out.set_shape(image.shape)
    return out


def _stage(image, stage: Stage, reference, seed):
    s_blur, s_kernel, s_resize, s_noise, s_jpeg = split(seed, 5)
    image = tf.cond(_coin(s_blur, stage.blur_prob),
                    lambda: filter2d(image, random_kernel(s_kernel, stage.blur)),
                    lambda: image)
    image = add_noise(random_resize(image, reference, stage, s_resize), stage, s_noise)
    return jpeg(image, stage.jpeg_quality, s_jpeg)


def realesrgan(hr, scale: int, seed):
    """Real-ESRGAN's degradation of one image.

    Args:
        hr: ``(H, W, 3)`` float in [0, 255], H and W multiples of ``scale``.
        scale: the LR is ``1/scale`` of the HR.
        seed: stateless seed ``(2,)``; the same seed gives the same LR.

    Returns:
        ``(H/scale, W/scale, 3)`` float32 in [0, 255], rounded to 8-bit levels.
    """
    hr = tf.convert_to_tensor(hr, tf.float32)
    size = tf.shape(hr)[:2]
    lr_size = size // scale
    s_first, s_second, s_order, s_resize, s_sinc, s_jpeg = split(seed, 6)
    x = _stage(hr / 255.0, FIRST, size, s_first)
    x = _stage(x, SECOND, lr_size, s_second)
    sinc = final_sinc_kernel(s_sinc, FINAL_SINC_PROB)

    def resize_and_sinc(image):
        return filter2d(resize(image, lr_size, s_resize), sinc)

    def final_jpeg(image):
        return jpeg(image, SECOND.jpeg_quality, s_jpeg)

    x = tf.cond(_coin(s_order, 0.5), lambda: final_jpeg(resize_and_sinc(x)),
                lambda: resize_and_sinc(final_jpeg(x)))
    lr = tf.round(tf.clip_by_value(x, 0.0, 1.0) * 255.0)
    if hr.shape[0] is not None and hr.shape[1] is not None:
        lr.set_shape([hr.shape[0] // scale, hr.shape[1] // scale, 3])
    return lr


def unsharp_mask(hr):
    """Sharpen an HR target as Real-ESRGAN does its ground truth (BasicSR's USMSharp).

    ``residual = x - G(x)`` (``G`` the 51-tap Gaussian); ``x + 0.5 * residual``, clipped,
    is blended in where ``|residual|`` exceeds 10 levels, through a ``G``-blurred mask.
    ``hr``: ``(H, W, 3)`` float in [0, 255] -> same, rounded to 8-bit levels.
    """
    x = tf.convert_to_tensor(hr, tf.float32) / 255.0
    r = tf.range(USM_SIZE, dtype=tf.float32) - USM_SIZE // 2
    g = tf.exp(-0.5 * tf.square(r / USM_SIGMA))
    g /= tf.reduce_sum(g)

    def blur(image):
        return filter2d(filter2d(image, g[None, :]), g[:, None])

    residual = x - blur(x)
    mask = blur(tf.cast(tf.abs(residual) * 255.0 > USM_THRESHOLD, tf.float32))
    sharp = tf.clip_by_value(x + USM_WEIGHT * residual, 0.0, 1.0)
    return tf.round((mask * sharp + (1.0 - mask) * x) * 255.0)


def sample_grid(hr, scale: int, seed: int, rows: int = 4) -> np.ndarray:
    """``rows x rows`` LR samples of ``hr`` (seeds ``(seed, 0)``, ``(seed, 1)``...), each
    enlarged by nearest neighbour back to the HR size, 2 px white between: uint8."""
    hr = tf.convert_to_tensor(hr, tf.float32)
    tiles = []
    for i in range(rows * rows):
        lr = realesrgan(hr, scale, tf.constant([seed, i], tf.int64))
        tiles.append(np.repeat(np.repeat(lr.numpy().astype(np.uint8), scale, 0), scale, 1))
    side, gap = tiles[0].shape[0], 2
    grid = np.full((rows * (side + gap) - gap,) * 2 + (3,), 255, np.uint8)
    for i, tile in enumerate(tiles):
        top, left = (i // rows) * (side + gap), (i % rows) * (side + gap)
        grid[top:top + side, left:left + side] = tile
    return grid
