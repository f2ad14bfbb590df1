"""The degradations of real photos of faces, for the aligned face model (GFPGAN's recipe).

GFPGAN (Wang et al. 2021) trains its face restorer on aligned FFHQ faces degraded once by
blur, downscaling, noise and JPEG, then resized back, with some colour jitter and some
grey. Its published training options (``options/train_gfpgan_v1.yml``, 512 px faces) draw:

* a Gaussian blur, isotropic or anisotropic half each, sigma in [0.1, 10] (41 taps);
* a bilinear downscale by a factor in [0.8, 8];
* Gaussian noise, sigma in [0, 20] levels; JPEG at a quality in [60, 100];
* a bilinear resize back to the face size;
* with probability 0.3 a per-channel colour shift in [-20, 20] levels; with probability
  0.01 grey (``gt_gray``: the target grey as well, so that the model never colourises).

:func:`gfpgan` does this for an x``scale`` model at 256 px: the blur sigma is halved with
the face size ([0.05, 5], 21 taps); the downscale is ``scale`` times a factor in
[1, :data:`SMALLER`], so the face model also sees faces up to 2.5 times smaller than its
aligned crop, which detection then enlarged ("downscaling by more than x4, then resizing
to the canonical LR"); the JPEG range reaches down to 40, since phone and web photos go
that low; grey comes with probability :data:`GRAY_PROB`, higher than GFPGAN's 0.01
because grey photos are common among old ones. Each draw comes from one stateless seed,
so the LR is a pure function of (HR, seed), as for the Real-ESRGAN pipeline. The ranges
are those of :mod:`srgan.data.face_degradation_numpy`, its numpy twin for trainers without
TensorFlow.
"""

from __future__ import annotations

import tensorflow as tf

from srgan.data.face_degradation_numpy import (BLUR_SIGMA, GRAY_PROB, JITTER_PROB,
                                               JITTER_SHIFT, JPEG_QUALITY, NOISE_SIGMA,
                                               SMALLER)
from srgan.data.kernels import filter2d, gaussian_kernel, split, uniform


def gray(hr, seed):
    """``hr`` ``(H, W, 3)`` float, made grey (BT.601 luma in all channels) with probability
    :data:`GRAY_PROB`; the LR made from a grey HR stays grey."""
    return tf.cond(uniform(seed, 0.0, 1.0) < GRAY_PROB,
                   lambda: tf.tile(tf.image.rgb_to_grayscale(hr), [1, 1, 3]), lambda: hr)


def gfpgan(hr, scale: int, seed):
    """The LR of an aligned face ``hr``, degraded as GFPGAN trains (module docstring).

    Args:
        hr: ``(H, W, 3)`` float in [0, 255], H and W multiples of ``scale``.
        scale: the LR is ``1/scale`` of the HR.
        seed: stateless seed ``(2,)``.

    Returns:
        ``(H/scale, W/scale, 3)`` float32 in [0, 255], rounded to 8-bit levels.
    """
    hr = tf.convert_to_tensor(hr, tf.float32)
    size = tf.shape(hr)[:2]
    s_blur, s_down, s_sigma, s_noise, s_jpeg, s_jitter, s_shift = split(seed, 7)
    x = filter2d(hr / 255.0, gaussian_kernel(s_blur, BLUR_SIGMA))
    factor = scale * uniform(s_down, 1.0, SMALLER)
    small = tf.maximum(tf.cast(tf.cast(size, tf.float32) / factor, tf.int32), 1)
    x = tf.image.resize(x, small, method="bilinear")
    x = x + tf.random.stateless_normal(tf.shape(x), s_noise) * (
        uniform(s_sigma, *NOISE_SIGMA) / 255.0)
    q = tf.random.stateless_uniform([], s_jpeg, JPEG_QUALITY[0], JPEG_QUALITY[1] + 1,
                                    dtype=tf.int32)
    x = tf.image.adjust_jpeg_quality(tf.clip_by_value(x, 0.0, 1.0), q)
    x = tf.image.resize(x, size // scale, method="bilinear")
    is_gray = tf.reduce_all(tf.equal(hr[..., 0], hr[..., 1])) & tf.reduce_all(
        tf.equal(hr[..., 1], hr[..., 2]))
    shift = tf.random.stateless_uniform([3], s_shift, -JITTER_SHIFT, JITTER_SHIFT) / 255.0
    jitter = (uniform(s_jitter, 0.0, 1.0) < JITTER_PROB) & ~is_gray
    x = tf.where(jitter, x + shift, x)
    # Noise and JPEG chroma would tint a grey face: it stays grey.
    x = tf.where(is_gray, tf.tile(tf.image.rgb_to_grayscale(x), [1, 1, 3]), x)
    lr = tf.round(tf.clip_by_value(x, 0.0, 1.0) * 255.0)
    if hr.shape[0] is not None and hr.shape[1] is not None:
        lr.set_shape([hr.shape[0] // scale, hr.shape[1] // scale, 3])
    return lr
