"""srgan.models.weights: exported generators load back, with their cards, old formats too."""

from pathlib import Path

import numpy as np
import pytest

from srgan.inference.upscale import upscale
from srgan.models.weights import GENERATOR_WEIGHTS, load_generator


def test_exported_generator_round_trips(trained_run):
    cfg, model = trained_run
    generator = load_generator(f"{cfg.train.checkpoint_dir}/{GENERATOR_WEIGHTS}")
    assert generator.hr_size == 32 and generator.config.num_blocks == 1
    x = np.random.default_rng(0).uniform(-1, 1, (1, 5, 7, 3)).astype(np.float32)
    np.testing.assert_allclose(generator.model(x), model.inference_generator(x), atol=1e-6)


def test_missing_generator_names_what_to_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="run `python train.py` first"):
        load_generator(tmp_path / "generator.weights.h5")


def test_generator_saved_by_an_earlier_version_still_loads():
    # tests/data/generator_v1 was written by export_generator (a tiny generator, weights
    # perturbed so every layer matters) with the output it gave. Keras keys weight files by
    # layer class and order: a change that renames or reorders layers fails here, as it
    # would fail for every generator users have saved.
    folder = Path(__file__).parent / "data" / "generator_v1"
    generator = load_generator(folder / "generator.weights.h5")
    expected = np.load(folder / "expected.npz")
    assert (generator.scale, generator.config.batch_norm, generator.hr_size) == (4, True, None)
    sr = upscale(generator.model, expected["lr"], generator.scale)
    assert np.abs(sr.astype(int) - expected["sr"]).max() <= 1
