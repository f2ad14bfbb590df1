import numpy as np
import pytest

from srgan.config import ModelConfig
from srgan.models import build_discriminator, build_generator


@pytest.mark.parametrize("upsample", ["subpixel", "nearest"])
@pytest.mark.parametrize("scale", [2, 4, 8])
def test_generator_shapes_any_input_size(upsample, scale):
    g = build_generator(ModelConfig(num_filters=4, num_blocks=1, upsample=upsample, scale=scale))
    for h, w in [(8, 8), (5, 11)]:
        sr = g(np.zeros((2, h, w, 3), np.float32))
        assert sr.shape == (2, h * scale, w * scale, 3)
    assert np.all(np.abs(sr) <= 1.0)  # tanh output range


def test_default_generator_parameter_count_by_hand():
    f, blocks = 64, 16
    conv = lambda k, cin, cout: k * k * cin * cout + cout  # noqa: E731  weights + bias
    bn = 4 * f  # gamma, beta, moving mean, moving variance
    prelu = f  # one slope per channel
    head = conv(9, 3, f) + prelu
    block = 2 * conv(3, f, f) + 2 * bn + prelu
    body = conv(3, f, f) + bn
    up = conv(3, f, 4 * f) + prelu  # conv to 4F, depth_to_space, PReLU over F channels
    tail = conv(9, f, 3)
    expected = head + blocks * block + body + 2 * up + tail
    assert expected == 1_554_883
    assert build_generator(ModelConfig()).count_params() == expected


@pytest.mark.parametrize("hr_size", [32, 64])
def test_discriminator_heads(hr_size):
    cfg = ModelConfig(disc_filters=4, disc_dense=8)
    patch = build_discriminator(cfg, hr_size)
    x = np.zeros((3, hr_size, hr_size, 3), np.float32)
    assert patch(x).shape == (3, hr_size // 16, hr_size // 16, 1)
    glob = build_discriminator(ModelConfig(disc_filters=4, disc_dense=8, disc_head="global"),
                               hr_size)
    assert glob(x).shape == (3, 1)
    # Eight conv blocks with strides 1,2,1,2,...; BN in all but the first.
    convs = [l for l in patch.layers if l.name.endswith("_conv")]
    assert [c.strides[0] for c in convs] == [1, 2] * 4
    assert [c.filters for c in convs] == [4, 4, 8, 8, 16, 16, 32, 32]
    assert not any(l.name == "d0_bn" for l in patch.layers)
    assert sum(l.name.endswith("_bn") for l in patch.layers) == 7
