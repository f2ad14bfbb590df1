"""srgan.training.checkpoint and the run's resume: state restored, epochs as a total,
damaged saves and run configs."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest

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


def test_damaged_latest_checkpoint_falls_back(trained_copy, caplog):
    more = dataclasses.replace(trained_copy,
                               train=dataclasses.replace(trained_copy.train, epochs=2))
    train(more, log=lambda m: None, verbose=0)  # a second save, at step 4
    _, state, _, _ = build_run(more, log=lambda m: None)
    latest = state.manager.latest_checkpoint
    for f in state.dir.glob("state/" + latest.rsplit("/", 1)[1] + ".*"):
        f.write_bytes(b"garbage")
    caplog.clear()
    _, state, _, _ = build_run(more, log=lambda m: None)
    assert state.step == 2
    assert any(r.levelname == "WARNING" and "unreadable checkpoint" in r.getMessage()
               and latest in r.getMessage() for r in caplog.records), caplog.records


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
