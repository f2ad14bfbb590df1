"""srgan.models.rrdb and srgan.models.generators: ESRGAN's RRDB generator, built by name."""

import json

import keras
import numpy as np
import pytest

from srgan.config import GENERATORS, ModelConfig
from srgan.models import generators
from srgan.models.generators import copy_weights
from srgan.models.weights import export_generator, load_generator, read_card

TINY_RRDB = dict(generator="rrdb", num_filters=4, num_blocks=1, rrdb_growth=2)


def test_every_configurable_generator_has_a_builder():
    assert set(generators.BUILDERS) == set(GENERATORS)


@pytest.mark.parametrize("scale", [2, 4, 8])
def test_rrdb_shapes_any_input_size(scale):
    g = generators.build_generator(ModelConfig(scale=scale, **TINY_RRDB))
    for h, w in [(8, 8), (5, 11)]:
        assert g(np.zeros((2, h, w, 3), np.float32)).shape == (2, h * scale, w * scale, 3)


def test_rrdb_parameter_count_by_hand():
    f, g, blocks = 8, 4, 2
    conv = lambda cin, cout: 9 * cin * cout + cout  # noqa: E731  3x3 weights + bias
    dense = sum(conv(f + i * g, g) for i in range(4)) + conv(f + 4 * g, f)
    expected = (conv(3, f) + blocks * 3 * dense + conv(f, f) + 2 * conv(f, f)
                + conv(f, f) + conv(f, 3))
    cfg = ModelConfig(generator="rrdb", num_filters=f, num_blocks=blocks, rrdb_growth=g)
    assert generators.build_generator(cfg).count_params() == expected


def test_residual_scaling_is_0_2():
    """With every dense block's last conv zeroed, each dense block is the identity and an
    RRDB is ``x + 0.2 * x``."""
    g = generators.build_generator(ModelConfig(**TINY_RRDB))
    for layer in g.layers:
        if layer.name.endswith("_conv5"):
            layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
    block = keras.Model(g.get_layer("head_conv").output, g.get_layer("rrdb0_add").output)
    x = np.random.default_rng(0).normal(size=(1, 5, 6, 4)).astype(np.float32)
    np.testing.assert_allclose(block(x).numpy(), 1.2 * x, rtol=1e-6)


def test_rrdb_has_no_batch_norm_and_a_linear_output():
    g = generators.build_generator(ModelConfig(**TINY_RRDB, global_residual=False))
    assert not any(isinstance(l, keras.layers.BatchNormalization) for l in g.layers)
    assert g.get_layer("tail_conv").activation.__name__ == "linear"


def test_fast_and_plain_rrdb_compute_the_same_function():
    cfg = ModelConfig(**TINY_RRDB)
    fast, plain = generators.build_generator(cfg), generators.build_generator(cfg, fast=False)
    copy_weights(fast, plain)
    lr = np.random.default_rng(1).uniform(-1, 1, (2, 8, 12, 3)).astype(np.float32)
    np.testing.assert_allclose(fast(lr).numpy(), plain(lr).numpy(), atol=1e-5)


def test_card_records_the_architecture_and_old_cards_mean_srresnet(tmp_path):
    cfg = ModelConfig(**TINY_RRDB)
    g = generators.build_generator(cfg)
    path = tmp_path / "g.weights.h5"
    export_generator(g, cfg, path)
    assert json.loads((tmp_path / "g.json").read_text())["model"]["generator"] == "rrdb"
    loaded = load_generator(path)
    assert loaded.config.generator == "rrdb" and loaded.config.rrdb_growth == 2
    x = np.random.default_rng(2).uniform(-1, 1, (1, 6, 7, 3)).astype(np.float32)
    np.testing.assert_allclose(loaded.model(x).numpy(), g(x).numpy(), atol=1e-5)
    card = json.loads((tmp_path / "g.json").read_text())
    del card["model"]["generator"], card["model"]["rrdb_growth"]
    (tmp_path / "old.json").write_text(json.dumps(card))
    assert read_card(tmp_path / "old.weights.h5")[1].generator == "srresnet"


@pytest.mark.slow
def test_rrdb_and_unet_discriminator_train_export_and_reload(tiny_flags, tmp_path):
    from srgan.cli import train_main

    argv = tiny_flags + ["--generator", "rrdb", "--rrdb-growth", "4", "--disc-arch", "unet",
                         "--epochs", "1", "--steps-per-epoch", "2", "--no-val", "--quiet"]
    assert train_main(argv) == 0
    loaded = load_generator(tmp_path / "ckpt" / "generator.weights.h5")
    assert (loaded.config.generator, loaded.config.disc_arch) == ("rrdb", "unet")
    assert loaded.model.get_layer("rrdb0_rdb3_conv5") is not None
