import numpy as np
import pytest

from srgan.config import ModelConfig
from srgan.models.discriminator import build_discriminator


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
