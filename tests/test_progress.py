"""srgan.training.progress: the plan after the first timed steps, the time left at each
epoch (log line and TensorBoard), durations people read; with a clock the test drives."""

import datetime
import logging
import re

import pytest
import tensorflow as tf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from srgan.console import PROGRESS
from srgan.training import progress
from srgan.training.progress import UNTIMED, ProgressCallback, duration


@pytest.mark.parametrize("seconds, text", [(0.4, "0 s"), (42, "42 s"), (89, "1 min"),
                                           (7 * 60 + 10, "7 min"), (3900, "1 h 05 min"),
                                           (47 * 3600, "47 h 00 min"),
                                           (76 * 3600 + 40 * 60, "3 d 5 h")])
def test_duration_reads_as_a_person_plans(seconds, text):
    assert duration(seconds) == text


class Clock:
    """A clock that moves only when told: each step takes what ``costs`` says."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def _run(callback, clock, epochs, steps, costs):
    """Drive ``callback`` through ``epochs`` epochs of ``steps`` steps costing ``costs``
    (then 1 s each) seconds."""
    costs = list(costs)
    for epoch in range(epochs):
        callback.on_epoch_begin(epoch)
        for batch in range(steps):
            clock.now += costs.pop(0) if costs else 1.0
            callback.on_train_batch_end(batch)
        callback.on_epoch_end(epoch)


def _lines(caplog):
    return [r.getMessage() for r in caplog.records if r.name == PROGRESS]


def test_plan_leaves_out_the_compiling_steps_then_each_epoch_says_what_is_left(
        tmp_path, caplog):
    caplog.set_level(logging.INFO, logger=PROGRESS)
    clock, step = Clock(), [0]
    writer = tf.summary.create_file_writer(str(tmp_path))
    callback = ProgressCallback("pretrain", (1, 3), 3 * 20, 20, [("gan", 100)], writer,
                                lambda: step[0], hint="try the quick command", clock=clock)
    # The two untimed steps take 60 s each (tracing): they must not count.
    _run(callback, clock, 3, 20, [60.0] * UNTIMED)
    lines = _lines(caplog)
    plan = lines[0]
    assert plan.startswith("plan: pretrain epochs 1..3 of 20 steps, 48 steps left at 1 s "
                           "each: about 48 s, until "), plan
    assert plan.endswith("; then gan: 100 steps, timed when it starts")
    # 48 s left: no need for the quicker command the hint suggests.
    assert [line.split(",")[0] for line in lines[1:]] == [
        "pretrain epoch 1/3: 40 s left (then 100 gan steps)",
        "pretrain epoch 2/3: 20 s left (then 100 gan steps)",
        "pretrain epoch 3/3: 0 s left (then 100 gan steps)"]
    assert all(line.endswith("at 1 s a step") for line in lines[1:])
    events = EventAccumulator(str(tmp_path)).Reload()
    left = [float(tf.make_ndarray(e.tensor_proto)) * 3600
            for e in events.Tensors("eta/hours_left")]
    assert left == pytest.approx([40, 20, 0], abs=1e-3)


def test_slow_steps_plan_after_the_first_timed_seconds(caplog):
    """80 s a step (the sample faces at 256 px on a CPU): the plan comes after the first
    timed step, not after ten of them."""
    caplog.set_level(logging.INFO, logger=PROGRESS)
    clock = Clock()
    callback = ProgressCallback("gan", (1, 200), 200, 1, [], tf.summary.create_noop_writer(),
                                lambda: 0, hint="try the quick command", clock=clock)
    callback.on_epoch_begin(0)
    for batch, cost in enumerate([300.0, 90.0, 80.0]):
        clock.now += cost
        callback.on_train_batch_end(batch)
    line, hint = _lines(caplog)
    assert hint == "try the quick command"  # hours left: worth a quicker first look
    assert re.fullmatch(r"plan: gan epochs 1\.\.200 of 1 steps, 197 steps left at 80 s each: "
                        r"about 4 h 23 min, until (\w{3} )?\d\d:\d\d", line), line


def test_finish_time_names_the_day_when_it_is_not_today():
    noon = datetime.datetime(2030, 5, 14, 12, 0).timestamp()  # a Tuesday
    assert progress.finish_time(3600, noon) == "13:00"
    assert progress.finish_time(24 * 3600, noon) == "Wed 12:00"


def test_an_epoch_shorter_than_the_timing_gives_the_plan_at_its_end(caplog):
    caplog.set_level(logging.INFO, logger=PROGRESS)
    clock = Clock()
    callback = ProgressCallback("gan", (1, 2), 8, 4, [], tf.summary.create_noop_writer(),
                                lambda: 0, clock=clock)
    _run(callback, clock, 2, 4, [])
    lines = _lines(caplog)
    assert lines[0].startswith("plan: gan epochs 1..2 of 4 steps, 4 steps left at 1 s each")
    assert len(lines) == 2 and lines[1].startswith("gan epoch 2/2: 0 s left")


@pytest.mark.slow  # a tiny training run
def test_a_run_on_the_sample_faces_plans_and_suggests_the_quick_command(tmp_path,
                                                                       monkeypatch, capsys):
    """No data/ folder: the built-in sample faces stand in, and the plan says what a
    quick first run is (here for any length of run); --quiet keeps the plan."""
    from conftest import TINY_FLAGS
    from srgan.cli import train_main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(progress, "QUICK_WORTH_S", 0.0)
    assert train_main(TINY_FLAGS + ["--pretrain-epochs", "1", "--epochs", "0",
                                    "--steps-per-epoch", "4", "--sample-every", "1000",
                                    "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "plan: pretrain epochs 1..1 of 4 steps" in out
    assert f"only the 2 built-in sample faces; for a first look that takes minutes, not " \
           f"hours: {progress.QUICK_COMMAND}" in out
    assert "saved " not in out and "data: no images" not in out  # --quiet: no status lines
