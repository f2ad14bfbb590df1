"""The order of training files as a pure function of (seed, position), so runs resume exactly.

The training stream is endless. Its element at position ``g`` is file
``pass_order(seed, n, g // n)[g % n]``: each pass over the ``n`` files is a permutation
drawn from ``(seed, pass)`` by a stateless op, and the element's augmentation (crop, flip)
is drawn from :func:`element_seed` ``(seed, g)`` the same way. Nothing depends on what came
before, so a resumed run starts at its saved position by arithmetic, before any file is
decoded, and sees exactly the batches an uninterrupted run would have seen.

Undecodable files are dropped after decoding, so ``k`` batches of ``B`` images may span
more than ``k * B`` positions; :func:`advance` counts them, given which files are bad.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import tensorflow as tf


def pass_order(seed, n: int, p):
    """File order of pass ``p``: a permutation of ``0..n-1``, int64 ``(n,)`` (graph or eager)."""
    key = tf.stack([tf.cast(seed, tf.int64), -1 - tf.cast(p, tf.int64)])  # p >= 0: no clash
    return tf.random.experimental.stateless_shuffle(tf.range(n, dtype=tf.int64), seed=key)


def element_seed(seed, position):
    """Stateless seed ``(2,)`` int64 of the stream element at ``position``."""
    return tf.stack([tf.cast(seed, tf.int64), tf.cast(position, tf.int64)])


def positions(n: int, seed: int, start: int = 0) -> tf.data.Dataset:
    """Endless ``(position, file index)`` int64 pairs, from position ``start`` on."""
    first, offset = divmod(int(start), n)

    def one_pass(p):
        index = tf.range(tf.where(p == first, tf.constant(offset, tf.int64), 0), n,
                         dtype=tf.int64)
        return tf.data.Dataset.from_tensor_slices(
            (p * n + index, tf.gather(pass_order(seed, n, p), index)))

    return tf.data.Dataset.counter(first).flat_map(one_pass)


def advance(n: int, seed: int, start: int, good: int, bad: Collection[int]) -> int:
    """Position reached from ``start`` once ``good`` decodable elements have been consumed.

    Args:
        n: number of files.
        seed: the stream's seed.
        start: position (stream elements) to count from.
        good: decodable elements consumed since ``start`` (steps x batch size).
        bad: indices of the files that failed to decode; each pass holds each once.

    Returns:
        The position just after the ``good``-th decodable element (``start + good`` when
        no file is bad).

    Raises:
        ValueError: every file is bad, so no amount of positions holds ``good`` elements.
    """
    if good <= 0 or not bad:
        return start + max(good, 0)
    per_pass = n - len(bad)
    if per_pass <= 0:
        raise ValueError("every file is bad: the stream has no decodable element")
    is_bad = np.zeros(n, bool)
    is_bad[list(bad)] = True
    position = start
    while True:
        p, offset = divmod(position, n)
        found = np.cumsum(~is_bad[pass_order(seed, n, p).numpy()[offset:]])
        if found[-1] >= good:
            return position + int(np.searchsorted(found, good)) + 1
        good -= int(found[-1])
        position = (p + 1) * n
        whole = (good - 1) // per_pass  # passes that are consumed entirely
        good -= whole * per_pass
        position += whole * n
