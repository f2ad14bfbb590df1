"""The exponential moving average of the generator's weights (BasicSR: decay 0.999).

The average is what training validates, samples, exports and ships; the checkpoint holds
it (:class:`srgan.training.checkpoint.TrainingState`), and
:class:`srgan.training.callbacks.AverageCallback` updates it after every generator step.
"""

from __future__ import annotations

import keras
import tensorflow as tf


def ema_decay_at(decay: float, updates) -> tf.Tensor:
    """Decay for the ``updates``-th average update: ``min(decay, (1 + n) / (10 + n))``.

    The warm-up (as TensorFlow's ``ExponentialMovingAverage`` with ``num_updates``) keeps
    the average from dwelling on the random initial weights for the first ~1/(1-decay)
    steps of a short run; from about 9,000 updates on it is ``decay`` itself (0.999).
    """
    n = tf.cast(updates, tf.float32)
    return tf.minimum(decay, (1.0 + n) / (10.0 + n))


class GeneratorAverage:
    """An exponential moving average of a generator's weights, in a second generator.

    The average is what BasicSR validates and releases: it is smoother than the raw
    weights late in training, and worth a few tenths of a dB. Keras's own
    ``Adam(use_ema=True)`` is not used because ``fit()`` then overwrites the trained
    weights with the average at the end of every call, and a training run calls ``fit()``
    several times per phase (resume, mid-epoch stops).

    Args:
        generator: the trained network.
        average: a second build of the same architecture; its weights become the average.
        decay: the average's decay (0.999 in BasicSR).
    """

    def __init__(self, generator: keras.Model, average: keras.Model, decay: float):
        self.generator, self.average, self.decay = generator, average, decay
        self.updates = tf.Variable(0, dtype=tf.int64, trainable=False, name="ema_updates")
        self._pairs = list(zip(average.weights, generator.weights))

    def reset(self) -> None:
        """Start the average at the generator's current weights (a fresh run)."""
        for avg, w in self._pairs:
            avg.assign(w)
        self.updates.assign(0)

    @tf.function
    def update(self) -> None:
        """One step: ``avg = d * avg + (1 - d) * w`` for every weight, BatchNorm moving
        statistics included."""
        d = ema_decay_at(self.decay, self.updates)
        for avg, w in self._pairs:
            avg.assign(d * avg + (1.0 - d) * tf.cast(w, avg.dtype))
        self.updates.assign_add(1)
