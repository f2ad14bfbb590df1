"""How every image becomes an (LR, HR) pair, the same way in training, sampling, predict
and evaluation:

1. centre square crop (CelebA's 178x218 faces lose their top and bottom margins);
2. resize to ``hr_size`` with antialiased bicubic -> HR. When training on ``crop``
   patches, only larger faces are resized (down to ``hr_size``): smaller ones keep their
   native resolution, since an upscaled HR is itself blurred;
3. optional random ``crop`` x ``crop`` HR patch (training only);
4. LR = HR downscaled by ``1/scale`` with antialiased bicubic (:func:`degrade`), or in
   training with ``degradation`` ``realesrgan``, Real-ESRGAN's random blur, resize, noise
   and JPEG (:mod:`srgan.data.degradation`), or ``gfpgan``, GFPGAN's for aligned faces
   (:mod:`srgan.data.face_degradation`), drawn from the element's seed; with
   ``sharpen_hr`` the HR target is then unsharp-masked.

The bicubic kernel is TensorFlow's ``keyscubic`` (a = -0.5) widened by the scale factor
when downscaling (``antialias=True``): the same kernel MATLAB's ``imresize`` uses, which
is how the SRGAN paper and most SR benchmarks make LR images. HR and LR are rounded to
8-bit levels, as a saved LR photo would be, then mapped to [-1, 1].

All are TensorFlow ops, usable eagerly and inside ``tf.data`` graphs.
"""

from __future__ import annotations

from typing import Optional

import tensorflow as tf

from srgan.data import degradation, face_degradation
from srgan.pixels import to_unit_range


def _resize(img, height, width):
    out = tf.image.resize(img, [height, width], method="bicubic", antialias=True)
    return tf.round(tf.clip_by_value(out, 0.0, 255.0))


def prepare_hr(image, hr_size: int, crop: Optional[int] = None):
    """``(H, W, C)`` uint8 -> ``(S, S, C)`` float32 in [0, 255]: centre square crop,
    antialiased bicubic resize, rounded to 8-bit levels.

    ``S`` is ``hr_size``; with ``crop`` it is the square's own side clipped to
    ``[crop, hr_size]``, so faces are only shrunk (or grown up to the crop size).
    """
    image = tf.cast(image, tf.float32)
    h, w = tf.shape(image)[0], tf.shape(image)[1]
    s = tf.minimum(h, w)
    square = image[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
    if crop is None:
        return _resize(square, hr_size, hr_size)
    side = tf.clip_by_value(s, crop, hr_size)
    return tf.cond(tf.equal(side, s), lambda: square, lambda: _resize(square, side, side))


def degrade(hr, scale: int, kind: str = "bicubic", seed=None):
    """Make the LR of ``hr``: antialiased bicubic ``x1/scale`` (the default), or
    Real-ESRGAN's (:func:`degradation.realesrgan`) or GFPGAN's
    (:func:`face_degradation.gfpgan`) degradation drawn from ``seed``.

    ``hr``: ``(H, W, C)`` float in [0, 255], H and W multiples of ``scale``; ``(B, H, W, C)``
    for bicubic -> ``(H/scale, W/scale, C)`` float32 in [0, 255], rounded to 8-bit levels.
    ``seed``: stateless ``(2,)``, needed for ``realesrgan`` and ``gfpgan``.
    """
    if kind in ("realesrgan", "gfpgan"):
        if seed is None:
            raise ValueError(f"the {kind} degradation needs a seed")
        degrade_with = degradation.realesrgan if kind == "realesrgan" else face_degradation.gfpgan
        return degrade_with(hr, scale, seed)
    shape = tf.shape(hr)
    return _resize(tf.cast(hr, tf.float32), shape[-3] // scale, shape[-2] // scale)


def make_pair(image, hr_size: int, scale: int, crop: Optional[int] = None, seed=None,
              kind: str = "bicubic", sharpen_hr: bool = False):
    """uint8 image -> ``(lr (s/scale, s/scale, 3), hr (s, s, 3))`` in [-1, 1], s = crop or hr_size.

    With ``seed`` (a stateless seed ``(2,)``, :func:`srgan.data.stream.element_seed`) training
    augmentation is applied, drawn from ``seed`` alone: the HR ``crop`` patch is taken at
    a random place (else the centre), both are flipped left-right with probability 1/2, and
    a ``realesrgan`` or ``gfpgan`` LR (``kind``, see :func:`degrade`) is drawn; ``gfpgan``
    makes some pairs grey first (:func:`face_degradation.gray`). ``sharpen_hr``
    unsharp-masks the HR after its LR is made (:func:`degradation.unsharp_mask`).
    """
    hr = prepare_hr(image, hr_size, crop)
    degrade_seed = None
    if seed is None:
        if crop:
            hr = tf.image.resize_with_crop_or_pad(hr, crop, crop)
    else:
        crop_seed, flip_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
        degrade_seed = tf.random.experimental.stateless_split(seed, 3)[2]
        if crop:
            hr = tf.image.stateless_random_crop(hr, [crop, crop, 3], crop_seed)
        hr = tf.image.stateless_random_flip_left_right(hr, flip_seed)
        if kind == "gfpgan":
            hr = face_degradation.gray(hr, tf.random.experimental.stateless_split(seed, 4)[3])
    lr = degrade(hr, scale, kind, degrade_seed)
    if sharpen_hr:
        hr = degradation.unsharp_mask(hr)
    return to_unit_range(lr), to_unit_range(hr)
