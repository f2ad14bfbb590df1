import numpy as np
import pytest
import tensorflow as tf

from srgan.config import ModelConfig
from srgan.models.generators import copy_weights
from srgan.models.srresnet import build_srresnet


@pytest.mark.parametrize("upsample", ["subpixel", "nearest"])
@pytest.mark.parametrize("scale", [2, 4, 8])
def test_generator_shapes_any_input_size(upsample, scale):
    g = build_srresnet(ModelConfig(num_filters=4, num_blocks=1, upsample=upsample, scale=scale))
    for h, w in [(8, 8), (5, 11)]:
        sr = g(np.zeros((2, h, w, 3), np.float32))
        assert sr.shape == (2, h * scale, w * scale, 3)


def test_paper_generator_has_tanh_output_and_batch_norm():
    cfg = ModelConfig(num_filters=4, num_blocks=1, batch_norm=True, global_residual=False)
    g = build_srresnet(cfg)
    assert g.get_layer("tail_conv").activation.__name__ == "tanh"
    assert sum(l.name.endswith("_bn1") or l.name.endswith("_bn2") for l in g.layers) == 2
    plain = build_srresnet(ModelConfig(num_filters=4, num_blocks=1))
    assert not any("_bn" in l.name for l in plain.layers)


def test_global_residual_starts_from_bilinear_upsampling():
    """With the last conv zeroed, the generator's output is the bilinear x4 of its input."""
    g = build_srresnet(ModelConfig(num_filters=4, num_blocks=1))
    tail = g.get_layer("tail_conv")
    tail.set_weights([np.zeros_like(w) for w in tail.get_weights()])
    lr = np.random.default_rng(0).uniform(-1, 1, (1, 6, 7, 3)).astype(np.float32)
    expected = tf.image.resize(lr, (24, 28), method="bilinear").numpy()
    np.testing.assert_allclose(g(lr).numpy(), expected, atol=1e-6)


@pytest.mark.parametrize("batch_norm, global_residual", [(False, True), (True, False)])
def test_fast_and_plain_builds_compute_the_same_function(batch_norm, global_residual):
    cfg = ModelConfig(num_filters=8, num_blocks=2, batch_norm=batch_norm,
                      global_residual=global_residual)
    fast, plain = build_srresnet(cfg), build_srresnet(cfg, fast=False)
    assert not any("Fast" in type(l).__name__ or "Block" in type(l).__name__
                   for l in plain.layers)
    copy_weights(fast, plain)
    lr = np.random.default_rng(1).uniform(-1, 1, (2, 8, 12, 3)).astype(np.float32)
    np.testing.assert_allclose(fast(lr).numpy(), plain(lr).numpy(), atol=1e-5)


@pytest.mark.parametrize("batch_norm", [True, False])
def test_default_generator_parameter_count_by_hand(batch_norm):
    f, blocks = 64, 16
    conv = lambda k, cin, cout: k * k * cin * cout + cout  # noqa: E731  weights + bias
    bn = 4 * f if batch_norm else 0  # gamma, beta, moving mean, moving variance
    prelu = f  # one slope per channel
    head = conv(9, 3, f) + prelu
    block = 2 * conv(3, f, f) + 2 * bn + prelu
    body = conv(3, f, f) + bn
    up = conv(3, f, 4 * f) + prelu  # conv to 4F, depth_to_space, PReLU over F channels
    tail = conv(9, f, 3)
    expected = head + blocks * block + body + 2 * up + tail
    assert expected == (1_554_883 if batch_norm else 1_546_435)
    assert build_srresnet(ModelConfig(batch_norm=batch_norm)).count_params() == expected
