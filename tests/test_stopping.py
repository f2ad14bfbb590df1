"""Reliability promises (docs/reliability.md): resume parity, graceful stop, kill -9,
damaged checkpoints, NaN/Inf, disk full and unwritable outputs, determinism.

One uninterrupted deterministic run of N = 8 steps (1 pre-training + 3 GAN epochs of 2
steps) is the module's reference; the other runs are compared with its checkpoint. The LR
is bicubic: that Real-ESRGAN's random degradation is drawn again for the same stream
positions is tests/test_stream.py's (it made each run here half as long again). No
triptychs: they cost a sixth of a tiny run, and tests/test_cli.py checks them.
"""

import errno
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorflow.python.framework import config as tf_config

from conftest import TINY_FLAGS, TINY_MODEL, smooth_face
from srgan.cli import config_from_args, train_main, train_parser
from srgan.config import ModelConfig
from srgan.models.discriminator import build_discriminator
from srgan.training import callbacks, losses, stopping
from srgan.training.run import build_run

ROOT = Path(__file__).resolve().parents[1]
RUN = ["--steps-per-epoch", "2", "--pretrain-epochs", "1", "--deterministic", "--no-val",
       "--sample-every", "1000"]


@pytest.fixture(scope="module")
def faces(tmp_path_factory):
    root = tmp_path_factory.mktemp("faces")
    rng = np.random.default_rng(0)
    for i, (h, w) in enumerate([(45, 37), (40, 52), (33, 33), (64, 48), (36, 40)]):
        smooth_face(rng, h, w).save(root / f"face_{i}.png")
    yield root
    tf_config.disable_op_determinism()  # process-wide: leave other test modules as found


def flags(run: Path, faces: Path, epochs: int = 3, *extra: str) -> list[str]:
    return TINY_FLAGS + RUN + ["--data", str(faces), "--epochs", str(epochs),
                               "--checkpoint-dir", str(run / "ckpt"),
                               "--logdir", str(run / "logs"),
                               "--results-dir", str(run / "results"), *extra]


def saved(run: Path) -> dict:
    """Every tensor of the newest save except the save counter and the training time (wall
    clock, never the same twice): ``{name: array}``."""
    path = tf.train.latest_checkpoint(str(run / "ckpt" / "state"))
    reader = tf.train.load_checkpoint(path)
    return {k: reader.get_tensor(k) for k, _ in tf.train.list_variables(path)
            if not k.startswith(("save_counter", "seconds/")) and "OBJECT_GRAPH" not in k}


def bn_shifted_biases() -> set:
    """Checkpoint keys of the discriminator's conv biases that feed a BatchNorm.

    BatchNorm removes any per-channel shift, so their gradient is zero up to rounding and
    Adam turns that rounding into steps of +-lr: their values are noise, which differs in
    any two float computations of the same steps (a resumed run's, say), while nothing
    downstream depends on them.
    """
    d = build_discriminator(ModelConfig(**TINY_MODEL), 32)
    return {f"d_optimizer/_trainable_variables/{i}/.ATTRIBUTES/VARIABLE_VALUE"
            for i, v in enumerate(d.trainable_variables)
            if v.path.endswith("_conv/bias") and not v.path.startswith("d0_")}


def counters(tensors: dict) -> tuple:
    """(step, pretrain epochs, GAN epochs, steps into the unfinished epoch)."""
    return tuple(int(tensors[f"{k}/.ATTRIBUTES/VARIABLE_VALUE"]) for k in (
        "g_optimizer/_iterations", "pretrain_epochs", "gan_epochs", "epoch_step"))


def files_of(folder: Path) -> dict:
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def reference(tmp_path_factory, faces):
    """An uninterrupted run of 8 steps; returns its folder."""
    run = tmp_path_factory.mktemp("reference")
    assert train_main(flags(run, faces)) == 0
    return run


def signal_at(monkeypatch, signals: dict) -> None:
    """Send ``signals[step]`` to this process right after that step (a real signal, caught
    by the training run's handler; the checkpoint callback runs after this one)."""
    original = callbacks.TensorBoardLogger.on_train_batch_end

    def on_train_batch_end(self, batch, logs=None):
        original(self, batch, logs)
        signum = signals.get(self._step())
        if signum:
            os.kill(os.getpid(), signum)

    monkeypatch.setattr(callbacks.TensorBoardLogger, "on_train_batch_end", on_train_batch_end)


@pytest.mark.slow
def test_resume_parity_and_graceful_stop(tmp_path, faces, reference, monkeypatch, capsys):
    """Stopping after k in {1, 4, 7} steps (SIGINT or SIGTERM), resuming each time, ends
    where the uninterrupted run ends: G, D, both optimizers, step and phase. The stops
    fall mid-epoch in pre-training, at a GAN epoch's end (the run before it crossed the
    pre-training -> GAN switch) and mid-epoch in the GAN phase."""
    signal_at(monkeypatch, {1: signal.SIGINT, 4: signal.SIGTERM, 7: signal.SIGINT})
    handlers = [signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)]
    # step k -> (exit code, (step, pretrain epochs, GAN epochs, steps into the epoch))
    expected = {1: (130, (1, 0, 0, 1)), 4: (143, (4, 1, 1, 0)), 7: (130, (7, 1, 2, 1))}
    for k, (code, progress) in expected.items():
        capsys.readouterr()
        assert train_main(flags(tmp_path, faces)) == code
        err = capsys.readouterr().err.strip().splitlines()[-1]
        assert re.fullmatch(rf"stopped by SIG(INT|TERM) at step {k}; saved .*ckpt-{k}; "
                            "run the same command to resume", err), err
        assert counters(saved(tmp_path)) == progress
        assert [signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)] == handlers
    assert train_main(flags(tmp_path, faces)) == 0
    resumed, uninterrupted = saved(tmp_path), saved(reference)
    assert counters(resumed) == counters(uninterrupted) == (8, 1, 3, 0)
    assert resumed.keys() == uninterrupted.keys()
    noise = bn_shifted_biases()
    assert len(noise) == 7 and noise <= resumed.keys()
    for name, value in uninterrupted.items():
        if name not in noise:
            # Float rounding only: D's reductions on CPU are not always summed in one order.
            # With the same seed, --deterministic: the determinism promise too.
            np.testing.assert_allclose(resumed[name], value, rtol=0, atol=1e-4, err_msg=name)


@pytest.mark.slow
def test_another_seed_gives_other_weights(tmp_path, faces, reference):
    """The same seed gives the same weights: test_resume_parity_and_graceful_stop's second
    run, stopped and resumed, ends within 1e-4 of the reference."""
    assert train_main(flags(tmp_path / "other", faces, 3, "--seed", "1")) == 0
    a, c = saved(reference), saved(tmp_path / "other")
    # Trainable weights are saved once, under their optimizer.
    kernels = [k for k in a if k.startswith("g_optimizer/_trainable") and a[k].ndim == 4]
    assert kernels and not any(np.array_equal(a[k], c[k]) for k in kernels)


@pytest.mark.slow
def test_nan_loss_stops_within_the_step_without_saving(tmp_path, faces, reference,
                                                        monkeypatch, capsys):
    """A resumed run with one more (cheap) pre-training epoch whose loss is NaN."""
    run = tmp_path / "run"
    shutil.copytree(reference / "ckpt", run / "ckpt")
    before = {p: b for p, b in files_of(run / "ckpt").items() if p.name != "config.json"}
    pixel = losses.pixel_loss
    monkeypatch.setattr(losses, "pixel_loss", lambda *a: pixel(*a) * float("nan"))
    assert train_main(flags(run, faces, 3, "--pretrain-epochs", "2")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: g_loss is nan at step 9 (pretrain phase); stopped without saving "
                   f"that step; last good checkpoint: {run / 'ckpt' / 'state' / 'ckpt-8'} "
                   f"(untouched)"]
    after = {p: b for p, b in files_of(run / "ckpt").items() if p.name != "config.json"}
    assert after == before


def test_nonfinite_guard_names_each_bad_loss_and_ignores_finite_ones():
    state = types.SimpleNamespace(step=5, manager=types.SimpleNamespace(
        latest_checkpoint="run/state/ckpt-4"))
    guard = stopping.NonFiniteGuard(state, "gan")
    logs = {"g_loss": 1.5, "content_loss": 1.0, "d_loss": float("inf"), "psnr": float("nan")}
    with pytest.raises(stopping.NonFiniteLoss, match=r"^d_loss is inf at step 5 \(gan "
                       r"phase\); stopped without saving that step; last good checkpoint: "
                       r"run/state/ckpt-4 \(untouched\)$"):
        guard.on_train_batch_end(0, logs)
    guard.on_train_batch_end(1, {**logs, "d_loss": 0.7})  # psnr is not a loss


@pytest.mark.slow
def test_disk_full_names_the_path_and_keeps_the_last_save(tmp_path, faces, reference,
                                                          monkeypatch, capsys):
    run = tmp_path / "run"
    shutil.copytree(reference / "ckpt", run / "ckpt")
    state_before = files_of(run / "ckpt" / "state")

    def full_disk(self, checkpoint_number=None, **kwargs):
        partial = Path(self.directory) / f"ckpt-{checkpoint_number}.data-00000-of-00001"
        partial.write_bytes(b"\0" * 100)
        raise tf.errors.ResourceExhaustedError(None, None, f"{partial}; No space left on device")

    monkeypatch.setattr(tf.train.CheckpointManager, "save", full_disk)
    assert train_main(flags(run, faces, 3, "--pretrain-epochs", "2")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "No space left on device" in err[0]
    assert f"{run / 'ckpt' / 'state' / 'ckpt-10'}: cannot save checkpoint" in err[0]
    assert err[0].endswith("ckpt-8 is intact")
    assert files_of(run / "ckpt" / "state") == state_before  # partial file removed


def test_disk_full_during_export_keeps_the_previous_generator(tmp_path, tiny_cfg,
                                                              monkeypatch):
    from srgan.models.generators import build_generator
    from srgan.models.weights import GENERATOR_WEIGHTS, export_generator

    generator = build_generator(tiny_cfg.model)
    path = tmp_path / GENERATOR_WEIGHTS
    export_generator(generator, tiny_cfg.model, path)
    before = files_of(tmp_path)

    def full_disk(model, target, *args, **kwargs):
        Path(target).write_bytes(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    # export_generator saves a plain-Keras copy of the generator, so patch the class.
    monkeypatch.setattr(keras.Model, "save_weights", full_disk)
    with pytest.raises(OSError) as info:
        export_generator(generator, tiny_cfg.model, path)
    assert str(info.value) == f"{path}: cannot write (No space left on device)"
    assert files_of(tmp_path) == before  # old weights intact, no temp file left


@pytest.mark.parametrize("which", ["--results-dir", "--logdir", "--checkpoint-dir", "state"])
def test_unwritable_output_is_detected_at_start_up(tmp_path, faces, which, capsys):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be")
    argv = flags(tmp_path / "run", faces)
    if which == "state":
        (tmp_path / "run" / "ckpt").mkdir(parents=True)
        (tmp_path / "run" / "ckpt" / "state").write_text("")
        bad = tmp_path / "run" / "ckpt" / "state"
    else:
        bad = blocker / "sub"
        argv[argv.index(which) + 1] = str(bad)
    assert train_main(argv) == 2
    captured = capsys.readouterr()
    assert re.fullmatch(rf"error: {re.escape(str(bad))}: not writable \([^\n]+\)",
                        captured.err.strip()), captured.err
    assert "Epoch" not in captured.out and not list(tmp_path.rglob("ckpt-*"))


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["truncated", "empty", "garbage", "every file garbage",
                                    "index garbage", "index empty"])
def test_damaged_checkpoint_falls_back_and_says_which(tmp_path, faces, reference, damage,
                                                      caplog):
    shutil.copytree(reference / "ckpt", tmp_path / "ckpt")
    state = tmp_path / "ckpt" / "state"
    targets = ([state / "checkpoint"] if damage.startswith("index") else
               list(state.glob("ckpt-8.*")) if damage == "every file garbage" else
               [state / "ckpt-8.data-00000-of-00001"])
    for target in targets:
        data = target.read_bytes()
        target.write_bytes({"truncated": data[: len(data) // 2], "empty": b"",
                            "garbage": b"\x00garbage" * 50, "every file garbage": b"garbage",
                            "index garbage": b"garbage {{", "index empty": b""}[damage])
    lines = []
    cfg = config_from_args(train_parser().parse_args(flags(tmp_path, faces)))
    _, run_state, _, _ = build_run(cfg, log=lines.append)
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    if damage.startswith("index"):
        assert any("unreadable checkpoint index; trying the 3 saves found on disk" in m
                   for m in warnings), warnings
        assert run_state.step == 8
    else:
        assert any(m.startswith(f"{state / 'ckpt-8'}: unreadable checkpoint")
                   for m in warnings), warnings
        assert f"resuming from {state / 'ckpt-6'}: step 6" in "\n".join(lines)
        assert run_state.step == 6


def _wait_for(proc, log: Path, pattern: str, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while not re.search(pattern, log.read_text(errors="replace"), re.M):
        assert proc.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.02)


@pytest.mark.slow
def test_kill9_inside_and_between_saves_loses_no_completed_checkpoint(tmp_path, faces):
    """The short version of scripts/kill9.py: SIGKILL inside a save, then right after one.
    In the pre-training phase, whose step traces in a third of the GAN step's time."""
    run_flags = flags(tmp_path, faces, 0, "--pretrain-epochs", "100")
    argv = [sys.executable, str(ROOT / "train.py"), *run_flags]
    env = dict(os.environ, SRGAN_TEST_SLOW_SAVE="2")
    state = tmp_path / "ckpt" / "state"
    logs = []
    for k, pattern in enumerate([r"pausing 2 s inside the save of \S+ckpt-4$",
                                 r"^saved \S+ckpt-4 \(step 4\)$"]):
        logs.append(tmp_path / f"run{k}.log")
        with open(logs[-1], "wb") as out:
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
        _wait_for(proc, logs[-1], pattern)
        proc.kill()
        proc.wait()
        if k == 0:  # killed after ckpt-4 was written, before the index named it
            assert tf.train.latest_checkpoint(str(state)).endswith("ckpt-2")
            assert (state / "ckpt-4.index").exists()
    second = logs[1].read_text()
    assert f"resuming from {state / 'ckpt-2'}: step 2" in second
    assert "removed 2 leftover files of an interrupted save" in second
    lines = []
    cfg = config_from_args(train_parser().parse_args(run_flags))
    _, run_state, _, _ = build_run(cfg, log=lines.append)
    assert run_state.step == 4
    assert f"resuming from {state / 'ckpt-4'}: step 4" in "\n".join(lines)


def test_graceful_stop_asks_once_then_stops_at_once_and_restores_handlers():
    before = [signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)]
    with stopping.GracefulStop(log=lambda m: None) as stop:
        assert not stop.requested
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.requested and stop.signum == signal.SIGTERM
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
        with pytest.raises(stopping.Stopped, match="^stopped by SIGTERM at step 3; saved x"):
            stop.stopped("x", 3)
    assert [signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)] == before
