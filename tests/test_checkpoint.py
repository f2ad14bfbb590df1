"""srgan.training.checkpoint and the run's resume: state restored, epochs as a total,
damaged saves and run configs."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from conftest import TRAINED_STEPS

from srgan.training.run import build_run, train


def _weights(model):
    return [w.copy() for w in model.get_weights()]


def test_resume_continues_from_saved_step_with_equal_weights(trained_run, trained_copy):
    _, model = trained_run
    g, d = _weights(model.generator), _weights(model.discriminator)
    resumed, state, _, _ = build_run(trained_copy, log=lambda m: None)
    assert state.step == TRAINED_STEPS and int(state.gan_epochs.numpy()) == 1
    for a, b in zip(g + d, _weights(resumed.generator) + _weights(resumed.discriminator)):
        np.testing.assert_array_equal(a, b)
    opt_a, opt_b = model.optimizer.variables, state.g_optimizer.variables
    for a, b in zip(opt_a, opt_b):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_resume_says_so_runs_to_the_total_and_applies_the_rates_given_now(trained_copy):
    """--epochs is a total, not "more"; rates and schedules come from this command line.
    (A damaged newest save: tests/test_stopping.py.)"""
    t = dataclasses.replace(trained_copy.train, epochs=2, g_lr=5e-5, lr_schedule="constant",
                            val=False)
    more = dataclasses.replace(trained_copy, train=t)
    lines = []
    model = train(more, log=lines.append, verbose=0)
    assert any(line.startswith("resuming from") and f"step {TRAINED_STEPS}" in line
               for line in lines)
    assert any(line.startswith("gan: generator learning rate 5e-05") for line in lines)
    assert float(model.g_optimizer.learning_rate) == pytest.approx(5e-5)
    lines.clear()
    train(more, log=lines.append, verbose=0)  # already done: no more steps
    assert not any(line.startswith("gan:") for line in lines)
    assert build_run(more, log=lambda m: None)[1].step == 2 * TRAINED_STEPS


def test_damaged_run_config_names_the_file_and_what_to_do(trained_copy):
    config = Path(trained_copy.train.checkpoint_dir) / "config.json"
    config.write_text('{\n  "data": ')
    with pytest.raises(ValueError) as err:
        build_run(trained_copy, log=lambda m: None)
    message = str(err.value)
    assert str(config) in message and "delete this file to resume" in message
    assert "\n" not in message
    config.unlink()  # as the message says: the run then resumes from its checkpoint
    assert build_run(trained_copy, log=lambda m: None)[1].step == TRAINED_STEPS
