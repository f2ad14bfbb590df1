import dataclasses
from pathlib import Path

import numpy as np
import pytest

from srgan.inference.upscale import upscale
from srgan.models.weights import GENERATOR_WEIGHTS, load_generator
from srgan.training.run import build_run, train


def _weights(model):
    return [w.copy() for w in model.get_weights()]


def test_resume_continues_from_saved_step_with_equal_weights(trained_run, trained_copy):
    _, model = trained_run
    g, d = _weights(model.generator), _weights(model.discriminator)
    resumed, state, _, _ = build_run(trained_copy, log=lambda m: None)
    assert state.step == 2 and int(state.gan_epochs.numpy()) == 1
    for a, b in zip(g + d, _weights(resumed.generator) + _weights(resumed.discriminator)):
        np.testing.assert_array_equal(a, b)
    opt_a, opt_b = model.optimizer.variables, state.g_optimizer.variables
    for a, b in zip(opt_a, opt_b):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_epochs_is_a_total_and_resume_says_so(trained_copy):
    more = dataclasses.replace(trained_copy,
                               train=dataclasses.replace(trained_copy.train, epochs=2))
    lines = []
    train(more, log=lines.append, verbose=0)
    assert any(line.startswith("resuming from") and "step 2" in line for line in lines)
    lines.clear()
    train(more, log=lines.append, verbose=0)  # already done: no more steps
    assert not any(line.startswith("gan:") for line in lines)
    assert build_run(more, log=lambda m: None)[1].step == 4


def test_damaged_latest_checkpoint_falls_back(trained_copy):
    more = dataclasses.replace(trained_copy,
                               train=dataclasses.replace(trained_copy.train, epochs=2))
    train(more, log=lambda m: None, verbose=0)  # a second save, at step 4
    _, state, _, _ = build_run(more, log=lambda m: None)
    latest = state.manager.latest_checkpoint
    for f in state.dir.glob("state/" + latest.rsplit("/", 1)[1] + ".*"):
        f.write_bytes(b"garbage")
    lines = []
    _, state, _, _ = build_run(more, log=lines.append)
    assert state.step == 2
    assert any("unreadable checkpoint" in line and latest in line for line in lines)


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


def test_damaged_run_config_names_the_file_and_what_to_do(trained_copy):
    config = Path(trained_copy.train.checkpoint_dir) / "config.json"
    config.write_text('{\n  "data": ')
    with pytest.raises(ValueError) as err:
        build_run(trained_copy, log=lambda m: None)
    message = str(err.value)
    assert str(config) in message and "delete this file to resume" in message
    assert "\n" not in message
    config.unlink()  # as the message says: the run then resumes from its checkpoint
    assert build_run(trained_copy, log=lambda m: None)[1].step == 2
