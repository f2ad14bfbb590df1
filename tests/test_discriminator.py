import keras
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


def test_unet_discriminator_gives_one_logit_per_pixel():
    d = build_discriminator(ModelConfig(disc_arch="unet", disc_filters=4), 32)
    x = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
    assert d(x).shape == (2, 32, 32, 1)
    normalised = [l for l in d.layers if isinstance(l, keras.layers.SpectralNormalization)]
    assert len(normalised) == 8  # every conv but the first and the logits
    assert [l.layer.strides[0] for l in normalised] == [2, 2, 2, 1, 1, 1, 1, 1]


def test_unet_discriminator_training_calls_bound_the_spectral_norm():
    d = build_discriminator(ModelConfig(disc_arch="unet", disc_filters=4), 16)
    x = np.random.default_rng(1).uniform(-1, 1, (1, 16, 16, 3)).astype(np.float32)
    layer = d.get_layer("d_down2")
    sigma = lambda: np.linalg.norm(  # noqa: E731
        layer.layer.kernel.numpy().reshape(-1, layer.layer.filters), 2)
    layer.layer.kernel.assign(layer.layer.kernel * 5.0)
    assert sigma() > 4
    for _ in range(20):
        d(x, training=True)
    assert sigma() == pytest.approx(1.0, abs=0.05)
