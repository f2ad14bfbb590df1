"""The one conversion between 8-bit pixels and the networks' value range.

Images are uint8 in [0, 255] in files and float in [-1, 1] inside the networks (0 -> -1,
255 -> 1). Both directions are TensorFlow ops, so they run eagerly on numpy arrays and
tensors (call ``.numpy()`` on the result for an array) and inside ``tf.function`` and
``tf.data`` graphs.
"""

from __future__ import annotations

import tensorflow as tf


def to_unit_range(image) -> tf.Tensor:
    """``[0, 255]`` values (uint8 or float) -> float32 in ``[-1, 1]``, same shape."""
    return tf.cast(image, tf.float32) / 127.5 - 1.0


def to_uint8(image) -> tf.Tensor:
    """Float in ``[-1, 1]`` -> uint8 in ``[0, 255]``, same shape: rounded half to even
    (as ``np.round``), values outside the range clipped."""
    scaled = (tf.cast(image, tf.float32) + 1.0) * 127.5
    return tf.cast(tf.clip_by_value(tf.round(scaled), 0.0, 255.0), tf.uint8)
