"""Random blur kernels of Real-ESRGAN's degradation model (Wang et al. 2021, sec. 3.1).

Each kernel is drawn from a stateless seed, so the same seed gives the same kernel in any
run. The families and their probabilities are those of Real-ESRGAN's public training
options (``train_realesrgan_x4plus.yml``):

* generalised bivariate Gaussians ``exp(-0.5 * (x' S^-1 x)^beta)``: ``beta = 1`` is the
  Gaussian (``iso``: one sigma, no rotation; ``aniso``: two sigmas and a rotation in
  [-pi, pi]); ``generalized_*`` draws ``beta`` in ``betag``;
* plateau kernels ``1 / (1 + (x' S^-1 x)^beta)``, ``beta`` in ``betap``;
* with probability ``sinc_prob`` instead, a 2D sinc (circular low-pass, cut-off ``omega``),
  which makes the ringing and overshoot of over-sharpened photos.

The side is an odd size from 7 to 21, uniformly. Every kernel is returned zero-padded to
21 x 21 (as Real-ESRGAN pads its kernels), so shapes stay static in tf.data graphs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import tensorflow as tf

MAX_SIZE = 21
SIZES = tuple(range(7, MAX_SIZE + 1, 2))
FAMILIES = ("iso", "aniso", "generalized_iso", "generalized_aniso", "plateau_iso",
            "plateau_aniso")
FAMILY_PROBS = (0.45, 0.25, 0.12, 0.03, 0.12, 0.03)


@dataclass(frozen=True)
class BlurRanges:
    """The ranges one blur pass draws from (Real-ESRGAN's first pass by default)."""

    sigma: tuple[float, float] = (0.2, 3.0)
    betag: tuple[float, float] = (0.5, 4.0)
    betap: tuple[float, float] = (1.0, 2.0)
    sinc_prob: float = 0.1


def split(seed, n: int) -> list:
    """``n`` independent stateless seeds ``(2,)`` from one."""
    return tf.unstack(tf.random.experimental.stateless_split(seed, n))


def uniform(seed, low: float, high: float):
    """A float32 scalar uniform in ``[low, high)``."""
    return tf.random.stateless_uniform([], seed, low, high)


def _grid():
    """Offsets ``(x, y)`` from the centre of a 21 x 21 kernel, float32 ``(21, 21)`` each."""
    r = tf.range(-(MAX_SIZE // 2), MAX_SIZE // 2 + 1, dtype=tf.float32)
    return tf.meshgrid(r, r)


def _support(size):
    """1 inside the centred ``size x size`` square, 0 outside: float32 ``(21, 21)``."""
    x, y = _grid()
    half = tf.cast(size // 2, tf.float32)
    return tf.cast((tf.abs(x) <= half) & (tf.abs(y) <= half), tf.float32)


def _quadratic_form(seed, sigma: tuple[float, float], isotropic: bool):
    """``x' S^-1 x`` over the grid for a random covariance ``S = R diag(sx^2, sy^2) R'``."""
    s_x, s_y, s_theta = split(seed, 3)
    sx = uniform(s_x, *sigma)
    sy = sx if isotropic else uniform(s_y, *sigma)
    theta = 0.0 if isotropic else uniform(s_theta, -math.pi, math.pi)
    x, y = _grid()
    c, s = tf.cos(theta), tf.sin(theta)
    u, v = c * x + s * y, -s * x + c * y  # coordinates along the principal axes
    return tf.square(u / sx) + tf.square(v / sy)


def _shape_parameter(seed, low: float, high: float):
    """``beta``: half the time in ``[low, 1)``, half in ``[1, high)`` (BasicSR's draw)."""
    coin, lower, upper = split(seed, 3)
    return tf.where(uniform(coin, 0.0, 1.0) < 0.5, uniform(lower, low, 1.0),
                    uniform(upper, 1.0, high))


def _family_kernels(seed, ranges: BlurRanges):
    """All six families drawn from ``seed``: float32 ``(6, 21, 21)``, unnormalised."""
    seeds = split(seed, 2 * len(FAMILIES))
    kernels = []
    for i, family in enumerate(FAMILIES):
        d2 = _quadratic_form(seeds[2 * i], ranges.sigma, not family.endswith("aniso"))
        if family.startswith("generalized"):
            kernels.append(tf.exp(-0.5 * tf.pow(d2, _shape_parameter(seeds[2 * i + 1],
                                                                     *ranges.betag))))
        elif family.startswith("plateau"):
            kernels.append(1.0 / (1.0 + tf.pow(d2, _shape_parameter(seeds[2 * i + 1],
                                                                    *ranges.betap))))
        else:
            kernels.append(tf.exp(-0.5 * d2))
    return tf.stack(kernels)


def sinc_kernel(omega):
    """Circular low-pass ``omega J1(omega r) / (2 pi r)`` (centre ``omega^2 / (4 pi)``),
    float32 ``(21, 21)``, unnormalised; ``omega`` is the cut-off in radians per pixel."""
    x, y = _grid()
    r = tf.sqrt(tf.square(x) + tf.square(y))
    safe_r = tf.where(r > 0, r, 1.0)
    ring = omega * tf.math.special.bessel_j1(omega * safe_r) / (2 * math.pi * safe_r)
    return tf.where(r > 0, ring, tf.square(omega) / (4 * math.pi))


def _normalised(kernel, size):
    kernel = kernel * _support(size)
    return kernel / tf.reduce_sum(kernel)


def random_size(seed):
    """An odd kernel side from :data:`SIZES`, uniformly: int32 scalar."""
    index = tf.random.stateless_uniform([], seed, 0, len(SIZES), dtype=tf.int32)
    return SIZES[0] + 2 * index


def random_kernel(seed, ranges: BlurRanges):
    """One blur kernel of a Real-ESRGAN pass: float32 ``(21, 21)`` summing to 1.

    The sinc's cut-off is drawn in [pi/3, pi] for sides under 13 and in [pi/5, pi] from 13
    on (wider kernels may cut lower), as in Real-ESRGAN.
    """
    s_size, s_sinc, s_omega, s_family, s_params = split(seed, 5)
    size = random_size(s_size)
    low = tf.where(size < 13, math.pi / 3, math.pi / 5)
    omega = low + (math.pi - low) * uniform(s_omega, 0.0, 1.0)
    family = tf.searchsorted(tf.math.cumsum(tf.constant(FAMILY_PROBS)),
                             [uniform(s_family, 0.0, 1.0)], side="right")[0]
    family = tf.minimum(family, len(FAMILIES) - 1)  # cumsum may end just under 1
    blur = tf.gather(_family_kernels(s_params, ranges), family)
    use_sinc = uniform(s_sinc, 0.0, 1.0) < ranges.sinc_prob
    return _normalised(tf.where(use_sinc, sinc_kernel(omega), blur), size)


def gaussian_kernel(seed, sigma: tuple[float, float], aniso_prob: float = 0.5):
    """A Gaussian blur kernel, isotropic or (with probability ``aniso_prob``) anisotropic
    and rotated, sigmas uniform in ``sigma``, on the full 21 x 21 support (GFPGAN's
    ``kernel_list: [iso, aniso]``): float32 ``(21, 21)`` summing to 1."""
    s_kind, s_iso, s_aniso = split(seed, 3)
    kernel = tf.where(uniform(s_kind, 0.0, 1.0) < aniso_prob,
                      tf.exp(-0.5 * _quadratic_form(s_aniso, sigma, False)),
                      tf.exp(-0.5 * _quadratic_form(s_iso, sigma, True)))
    return kernel / tf.reduce_sum(kernel)


def final_sinc_kernel(seed, prob: float):
    """The last filter before the LR is final: with probability ``prob`` a sinc of random
    side and cut-off in [pi/3, pi], else the identity. float32 ``(21, 21)`` summing to 1."""
    s_size, s_use, s_omega = split(seed, 3)
    omega = uniform(s_omega, math.pi / 3, math.pi)
    pulse = tf.cast(tf.equal(tf.add_n([tf.abs(g) for g in _grid()]), 0.0), tf.float32)
    kernel = tf.where(uniform(s_use, 0.0, 1.0) < prob, sinc_kernel(omega), pulse)
    return _normalised(kernel, random_size(s_size))


def symmetric_pad(image, pad_h: int, pad_w: int):
    """Mirror-pad ``(H, W, C)`` by ``pad_h`` rows and ``pad_w`` columns on each side (edge
    pixel repeated, as numpy's ``symmetric``), for any pad, even one larger than the image."""
    def indices(n, pad):
        i = tf.math.floormod(tf.range(-pad, n + pad), 2 * n)
        return tf.where(i < n, i, 2 * n - 1 - i)

    shape = tf.shape(image)
    image = tf.gather(image, indices(shape[0], pad_h), axis=0)
    return tf.gather(image, indices(shape[1], pad_w), axis=1)


def filter2d(image, kernel):
    """Convolve every channel of ``image`` ``(H, W, C)`` with ``kernel`` ``(kh, kw)`` (odd
    sides), mirror-padded: same shape out."""
    kh, kw = kernel.shape
    padded = symmetric_pad(image, kh // 2, kw // 2)[None]
    channels = image.shape[-1]
    weights = tf.tile(tf.reshape(kernel, [kh, kw, 1, 1]), [1, 1, channels, 1])
    return tf.nn.depthwise_conv2d(padded, weights, [1, 1, 1, 1], "VALID")[0]
