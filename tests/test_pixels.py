"""srgan.pixels: the one [-1, 1] <-> uint8 conversion."""

import numpy as np
import tensorflow as tf

from srgan.pixels import to_uint8, to_unit_range


def test_known_values_round_half_to_even_and_clip():
    out = to_uint8(np.array([-1.5, -1.0, 0.0, 1.0 / 127.5, 1.0, 1.5], np.float32)).numpy()
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, [0, 0, 128, 128, 255, 255])  # 127.5 -> 128, 128.5 -> 128
    np.testing.assert_allclose(to_unit_range(np.array([0, 255], np.uint8)), [-1.0, 1.0])


def test_every_level_round_trips_and_works_in_a_graph():
    levels = np.arange(256, dtype=np.uint8).reshape(16, 16)
    np.testing.assert_array_equal(to_uint8(to_unit_range(levels)).numpy(), levels)
    graph = tf.function(lambda x: to_uint8(to_unit_range(x)))
    np.testing.assert_array_equal(graph(tf.constant(levels)).numpy(), levels)
