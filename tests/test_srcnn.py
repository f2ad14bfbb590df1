"""SRCNN: the 9-1-5 network, its model card, and training it with train.py."""

import json

import numpy as np
import pytest

from srgan.cli import train_main
from srgan.config import ModelConfig
from srgan.inference.upscale import interpolate
from srgan.models.generators import build_generator
from srgan.models.srcnn import build_srcnn
from srgan.models.weights import export_generator, load_generator
from srgan.pixels import to_uint8, to_unit_range


@pytest.mark.parametrize("scale", [2, 4])
def test_shapes_and_paper_size(scale):
    g = build_generator(ModelConfig(generator="srcnn", scale=scale))
    assert g(np.zeros((2, 5, 7, 3), np.float32)).shape == (2, 5 * scale, 7 * scale, 3)
    kernels = [l.kernel.shape for l in g.layers if hasattr(l, "kernel")]
    assert kernels == [(9, 9, 3, 64), (1, 1, 64, 32), (5, 5, 32, 3)]  # 9-1-5, 64 and 32
    assert g.count_params() == 20_099


def test_global_residual_starts_at_bicubic():
    g = build_srcnn(ModelConfig(generator="srcnn", num_filters=4))
    last = g.get_layer("reconstruction")
    last.set_weights([np.zeros_like(w) for w in last.get_weights()])
    lr = np.random.default_rng(0).integers(0, 256, (6, 9, 3), np.uint8)
    sr = to_uint8(g(to_unit_range(lr[None])))[0].numpy()
    assert np.abs(sr.astype(int) - interpolate(lr, 4)).max() <= 1


def test_card_records_the_architecture_and_rebuilds_it(tmp_path):
    cfg = ModelConfig(generator="srcnn", num_filters=4)
    g = build_generator(cfg)
    path = tmp_path / "srcnn.weights.h5"
    export_generator(g, cfg, path, {"hr_size": 32})
    assert json.loads((tmp_path / "srcnn.json").read_text())["model"]["generator"] == "srcnn"
    loaded = load_generator(path)
    assert loaded.config == cfg and loaded.model.name == "srcnn"
    x = np.random.default_rng(1).uniform(-1, 1, (1, 8, 8, 3)).astype(np.float32)
    np.testing.assert_allclose(loaded.model(x).numpy(), g(x).numpy(), atol=1e-6)


@pytest.mark.slow
def test_train_generator_srcnn_pixel_loss(tmp_path, tiny_flags):
    assert train_main(tiny_flags + ["--generator", "srcnn", "--pretrain-epochs", "1",
                                    "--epochs", "0", "--steps-per-epoch", "2",
                                    "--quiet"]) == 0
    card = json.loads((tmp_path / "ckpt" / "generator.json").read_text())
    assert card["model"]["generator"] == "srcnn" and card["training"]["phase"] == "pretrain"
    assert load_generator(tmp_path / "ckpt" / "generator.weights.h5").model.name == "srcnn"
