import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from conftest import TRAINED_STEPS
from srgan.config import ModelConfig
from srgan.models.generators import build_generator
from srgan.models.weights import GENERATOR_WEIGHTS, load_generator
from srgan.training.run import build_run
from srgan.training.ema import GeneratorAverage, ema_decay_at
from srgan.training.schedules import PhaseSchedule


def test_cosine_schedule_runs_from_rate_to_min_over_the_phase():
    start = tf.Variable(100, dtype=tf.int64)
    s = PhaseSchedule(2e-4, "cosine", total_steps=1000, start=start, min_ratio=0.01)
    assert float(s(100)) == pytest.approx(2e-4)
    assert float(s(600)) == pytest.approx(2e-4 * (0.01 + 0.99 * 0.5))
    assert float(s(1100)) == pytest.approx(2e-6)
    assert float(s(5000)) == pytest.approx(2e-6)  # past the end: stays at the floor
    start.assign(600)  # the variable is read at every call
    assert float(s(600)) == pytest.approx(2e-4)


def test_step_schedule_is_the_papers_tenfold_drop_halfway():
    s = PhaseSchedule(1e-4, "step", total_steps=200)
    assert [float(s(t)) for t in (0, 99, 100, 199)] == pytest.approx([1e-4, 1e-4, 1e-5, 1e-5])
    assert float(PhaseSchedule(3e-4, "constant", 10)(7)) == pytest.approx(3e-4)


def test_ema_decay_warms_up_then_holds():
    assert float(ema_decay_at(0.999, 0)) == pytest.approx(0.1)
    assert float(ema_decay_at(0.999, 90)) == pytest.approx(0.91)
    assert float(ema_decay_at(0.999, 100_000)) == pytest.approx(0.999)


def test_generator_average_follows_the_formula():
    cfg = ModelConfig(num_filters=4, num_blocks=1)
    g, avg = build_generator(cfg), build_generator(cfg)
    ema = GeneratorAverage(g, avg, decay=0.5)
    ema.reset()
    before = [w.numpy().copy() for w in g.weights]
    for w in g.weights:
        w.assign(w + 1.0)
    ema.update()  # decay min(0.5, 1/10) = 0.1 at the first update
    for a, w0 in zip(avg.weights, before):
        np.testing.assert_allclose(a.numpy(), 0.1 * w0 + 0.9 * (w0 + 1.0), atol=1e-6)
    ema.update()  # second: min(0.5, 2/11)
    d = 2 / 11
    for a, w0 in zip(avg.weights, before):
        np.testing.assert_allclose(a.numpy(), d * (0.1 * w0 + 0.9 * (w0 + 1)) + (1 - d) * (w0 + 1),
                                   atol=1e-6)
    assert int(ema.updates.numpy()) == 2


def test_resume_restores_the_average_and_exports_it(trained_run, trained_copy):
    _, model = trained_run
    avg = [w.numpy().copy() for w in model.inference_generator.weights]
    raw = [w.numpy().copy() for w in model.generator.weights]
    assert any(not np.array_equal(a, r) for a, r in zip(avg, raw))
    resumed, state, _, average = build_run(trained_copy, log=lambda m: None)
    for a, b in zip(avg, average.average.weights):
        np.testing.assert_array_equal(a, b.numpy())
    assert int(average.updates.numpy()) == state.step == TRAINED_STEPS
    exported = load_generator(f"{trained_copy.train.checkpoint_dir}/{GENERATOR_WEIGHTS}").model
    x = np.random.default_rng(0).uniform(-1, 1, (1, 6, 6, 3)).astype(np.float32)
    np.testing.assert_allclose(exported(x), resumed.inference_generator(x), atol=1e-6)


def test_init_from_loads_weights_and_refuses_another_architecture(trained_run, tmp_path):
    cfg, _ = trained_run
    source = f"{cfg.train.checkpoint_dir}/{GENERATOR_WEIGHTS}"
    t = dataclasses.replace(cfg.train, init_from=source, epochs=0,
                            checkpoint_dir=str(tmp_path / "second"))
    lines = []
    model, *_ = build_run(dataclasses.replace(cfg, train=t), log=lines.append)
    loaded = load_generator(source).model
    for a, b in zip(loaded.weights, model.generator.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert any(line.startswith("init: generator weights from") for line in lines)
    wider = dataclasses.replace(cfg.model, num_filters=4)
    t = dataclasses.replace(t, checkpoint_dir=str(tmp_path / "third"))
    with pytest.raises(ValueError, match="num_filters 8 here 4"):
        build_run(dataclasses.replace(cfg, model=wider, train=t), log=lambda m: None)


def test_validation_and_saves_follow_step_counts(trained_run):
    """The shared run: 5 steps, --val-every 2, --save-every 3 (and the epoch's end)."""
    cfg, _ = trained_run
    ckpt = Path(cfg.train.checkpoint_dir)
    rows = (ckpt / "validation.csv").read_text().splitlines()
    assert [int(row.split(",")[2]) for row in rows[1:]] == [2, 4]
    assert math.isfinite(float(rows[-1].split(",")[3]))
    saves = sorted(int(p.stem.split("-")[1]) for p in (ckpt / "state").glob("ckpt-*.index"))
    assert saves == [3, TRAINED_STEPS]
