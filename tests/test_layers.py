"""FastConv2D and BlockConv2D compute what a plain Conv2D computes, forward and backward."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from srgan.models.layers import (BicubicUpsample, BilinearUpsample, BlockConv2D, FastConv2D,
                                 block_tap_index, with_conv_mode, with_fast_convs)


def _pair(fast, plain, shape, seed=0):
    x = tf.constant(np.random.default_rng(seed).normal(size=shape).astype(np.float32))
    fast.build(x.shape)
    plain.build(x.shape)
    weights = [np.random.default_rng(seed + 1).normal(size=w.shape).astype(np.float32)
               for w in plain.weights]
    plain.set_weights(weights)
    fast.set_weights(weights)
    return x


def _output_and_grads(layer, x):
    """Output, and the gradients w.r.t. input, kernel and bias of a non-linear loss."""
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x)
        loss = tf.reduce_sum(y * tf.sin(y))
    return [y] + tape.gradient(loss, [x] + layer.trainable_variables)


def _assert_same(fast, plain, x, rtol=1e-4):
    for a, b in zip(_output_and_grads(fast, x), _output_and_grads(plain, x)):
        scale = float(np.abs(b).max())
        assert scale > 0
        np.testing.assert_allclose(a, b, atol=rtol * scale)


@pytest.mark.parametrize("kernel, strides, padding", [
    (3, 1, "same"), (5, 1, "same"), (1, 1, "same"),
    (3, 2, "same"), (3, 1, "valid"),  # fall back to Conv2D
])
def test_fast_conv_matches_conv2d(kernel, strides, padding):
    args = dict(filters=4, kernel_size=kernel, strides=strides, padding=padding)
    fast, plain = FastConv2D(**args), keras.layers.Conv2D(**args)
    _assert_same(fast, plain, _pair(fast, plain, (2, 9, 7, 5)))


@pytest.mark.parametrize("kernel, block", [(9, 4), (9, 2), (9, 8), (3, 4), (5, 3), (1, 2)])
def test_block_conv_matches_conv2d(kernel, block):
    fast = BlockConv2D(3, kernel, block=block, activation="tanh")
    plain = keras.layers.Conv2D(3, kernel, padding="same", activation="tanh")
    _assert_same(fast, plain, _pair(fast, plain, (2, 2 * block, 3 * block, 5)))


def test_block_tap_index_covers_every_tap_once_per_output_phase():
    index = block_tap_index(9, 4)  # (3, 4, 4): block offset m, input phase q, output phase p
    pad = 4 * 1 + 4 - 1 - 4
    for p in range(4):
        taps = sorted(index[:, :, p].ravel() - pad)
        real = [t for t in taps if 0 <= t < 9]
        assert real == list(range(9))  # each of the 9 taps reached exactly once


def test_block_conv_keeps_conv2d_weights_and_config():
    layer = BlockConv2D(3, 9, block=4, name="tail")
    layer.build((None, None, None, 64))
    assert [tuple(w.shape) for w in layer.weights] == [(9, 9, 64, 3), (3,)]
    clone = BlockConv2D.from_config(layer.get_config())
    assert clone.block == 4 and clone.kernel_size == (9, 9) and clone.padding == "same"


def test_with_fast_convs_copies_a_model():
    model = keras.Sequential([keras.Input((None, None, 3)),
                              keras.layers.Conv2D(4, 3, padding="same", name="a"),
                              keras.layers.Conv2D(2, 3, strides=2, name="b")])
    fast = with_fast_convs(model)
    assert [type(l) for l in fast.layers] == [FastConv2D, FastConv2D]
    assert [l.name for l in fast.layers] == ["a", "b"]
    x = np.random.default_rng(0).normal(size=(1, 8, 8, 3)).astype(np.float32)
    np.testing.assert_allclose(fast(x), model(x), rtol=1e-6)


def _grad_graph_ops(layer, shape):
    x = tf.zeros(shape)
    layer.build(shape)

    @tf.function
    def grad(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
        return tape.gradient(y, x)

    return {op.type for op in grad.get_concrete_function(x).graph.get_operations()}


@pytest.mark.parametrize("make", [lambda **k: FastConv2D(4, 3, padding="same", **k),
                                  lambda **k: BlockConv2D(3, 5, block=2, **k)])
def test_stock_conv_mode_traces_keras_own_conv(make):
    fast_ops = _grad_graph_ops(make(), (1, 8, 8, 4))
    stock_ops = _grad_graph_ops(make(conv_mode="stock"), (1, 8, 8, 4))
    assert "Conv2DBackpropInput" not in fast_ops and "Conv2DBackpropInput" in stock_ops
    assert "SpaceToDepth" not in stock_ops
    with pytest.raises(ValueError, match="conv_mode must be one of"):
        make(conv_mode="fastest")


def _conv_layers(layer):
    """``layer``'s FastConv2D and BlockConv2D layers, in nested models and wrappers too."""
    if isinstance(layer, (FastConv2D, BlockConv2D)):
        return [layer]
    inner = getattr(layer, "layers", None) or ([layer.layer] if hasattr(layer, "layer") else [])
    return [conv for sub in inner for conv in _conv_layers(sub)]


def test_with_conv_mode_copies_a_model_with_every_fast_conv_in_that_mode():
    inner_in = keras.Input((None, None, 4))
    inner = keras.Model(inner_in, BlockConv2D(4, 5, block=2, name="block")(inner_in))
    x = keras.Input((None, None, 3))
    y = FastConv2D(4, 3, padding="same", name="fast")(x)
    y = keras.layers.SpectralNormalization(FastConv2D(4, 3, padding="same"), name="sn")(y)
    model = keras.Model(x, inner(y))
    copy = with_conv_mode(model, "export")
    assert [c.conv_mode for c in _conv_layers(copy)] == ["export"] * 3
    assert [c.conv_mode for c in _conv_layers(model)] == ["fast"] * 3
    image = np.random.default_rng(0).normal(size=(1, 8, 8, 3)).astype(np.float32)
    np.testing.assert_allclose(copy(image), model(image), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cls", [BilinearUpsample, BicubicUpsample])
def test_upsample_gives_the_same_under_another_keras_backend(cls, monkeypatch):
    """Under JAX (scripts/finetune_jax.py) the layer takes keras.ops.image.resize with a
    static size. Taking that branch here, on TensorFlow, checks its sizes and that it
    resizes as the TensorFlow branch does; that JAX's resize gives the same values was
    measured apart (docs/model_zoo.md: the JAX-trained weights score the same here)."""
    x = tf.constant(np.random.default_rng(3).normal(size=(2, 5, 7, 3)).astype(np.float32))
    expected = cls(4)(x).numpy()
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    got = np.asarray(cls(4)(x))
    assert got.shape == (2, 20, 28, 3)
    np.testing.assert_allclose(got, expected, atol=1e-5)
