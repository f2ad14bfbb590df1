"""srgan.training.distribute: precision policies, loss scaling, and tf.distribute on CPU.

The distributed runs are subprocesses: logical devices must be configured before
TensorFlow starts, and a multi-worker strategy needs one process per worker.
"""

import json
import os
import re
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import TINY_MODEL
from srgan.config import Config, ModelConfig, TrainConfig
from srgan.models.discriminator import build_discriminator
from srgan.models.generators import build_generator
from srgan.models.vgg import build_vgg16
from srgan.training import distribute, losses
from srgan.training.gan import SRGAN

ROOT = Path(__file__).resolve().parents[1]

MIRRORED_SCRIPT = textwrap.dedent("""
    import dataclasses, json, sys
    import keras, numpy as np, tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from srgan.config import Config, DataConfig, LossConfig, ModelConfig, TrainConfig
    from srgan.training import distribute
    from srgan.training.run import build_run

    parts = json.loads(sys.argv[1])
    cfg = Config(data=DataConfig(**parts["data"]), model=ModelConfig(**parts["model"]),
                 loss=LossConfig(**parts["loss"]), train=TrainConfig(**parts["train"]))
    rng = np.random.default_rng(0)
    hr = rng.uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
    lr = tf.image.resize(hr, [8, 8], antialias=True).numpy()
    out = {}
    for name in ("default", "mirrored"):
        keras.utils.set_random_seed(0)
        strategy = distribute.make_strategy(name, 2)
        t = dataclasses.replace(cfg.train, checkpoint_dir=f"{sys.argv[2]}/{name}")
        with strategy.scope():  # as training.train does
            model, state, _, _ = build_run(dataclasses.replace(cfg, train=t),
                                                 log=lambda m: None)
        model.compile(state.g_optimizer, state.d_optimizer, run_eagerly=True)  # no tracing
        history = model.fit(tf.data.Dataset.from_tensors((lr, hr)), epochs=1, verbose=0)
        out[name] = {"replicas": model.distribute_strategy.num_replicas_in_sync,
                     "losses": {k: v[0] for k, v in history.history.items()},
                     "g_weights": [float(np.abs(w).sum()) for w in model.generator.get_weights()]}
    print(json.dumps(out))
""")


def _env():
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}


@pytest.mark.slow
def test_mirrored_first_step_matches_single_device(tiny_cfg, tmp_path):
    proc = subprocess.run([sys.executable, "-c", MIRRORED_SCRIPT, json.dumps(tiny_cfg.to_dict()),
                           str(tmp_path)], capture_output=True, text=True, env=_env(),
                          timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    single, mirrored = out["default"], out["mirrored"]
    assert (single["replicas"], mirrored["replicas"]) == (1, 2)
    assert set(single["losses"]) == set(mirrored["losses"]) and "d_loss" in single["losses"]
    for name, value in single["losses"].items():
        assert mirrored["losses"][name] == pytest.approx(value, rel=1e-4, abs=1e-6), name
    # After one Adam step (each weight moves by <= lr = 1e-4). Biases before BatchNorm have
    # zero gradient up to rounding, which Adam scales up: hence the absolute tolerance.
    np.testing.assert_allclose(mirrored["g_weights"], single["g_weights"], rtol=1e-4,
                               atol=1e-4)


def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _run_workers(flags, tmp_path, epochs):
    """Two workers train ``epochs`` SRResNet epochs of 2 steps (the pre-training phase:
    its step traces in a third of the GAN step's time, and the GAN step under a strategy
    is test_mirrored_first_step_matches_single_device's)."""
    workers = [f"127.0.0.1:{p}" for p in _free_ports(2)]
    procs = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        procs.append(subprocess.Popen(
            [sys.executable, str(ROOT / "train.py"), *flags, "--strategy", "multiworker",
             "--pretrain-epochs", str(epochs), "--epochs", "0", "--steps-per-epoch", "2",
             "--no-val", "--sample-every", "1000"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
            env={**_env(), "TF_CONFIG": json.dumps(tf_config)}))
    outputs = []
    for proc in procs:
        try:
            outputs.append(proc.communicate(timeout=300)[0])
        except subprocess.TimeoutExpired:
            for p in procs:
                p.kill()
            raise
        assert proc.returncode == 0, outputs[-1][-3000:]
    return outputs


@pytest.mark.slow
def test_multiworker_two_local_processes_train_and_resume(tiny_flags, tmp_path):
    ckpt = Path(tiny_flags[tiny_flags.index("--checkpoint-dir") + 1])
    chief, worker = _run_workers(tiny_flags, tmp_path, epochs=1)
    assert sorted(p.name for p in (ckpt / "state").glob("ckpt-*.index")) == ["ckpt-2.index"]
    assert (ckpt / "generator.weights.h5").is_file()
    temp = re.search(r"not the chief; writing to (\S+)", worker).group(1)
    assert not Path(temp).exists()  # the worker's saves went to a temp folder, now gone
    chief, worker = _run_workers(tiny_flags, tmp_path, epochs=2)
    assert "resuming from" in chief and "step 2" in chief
    assert "resuming from" in worker  # from its copy of the chief's save
    assert sorted(p.name for p in (ckpt / "state").glob("ckpt-*.index")) == [
        "ckpt-2.index", "ckpt-4.index"]


def test_strategy_checks():
    assert distribute.make_strategy("default", 3).num_replicas_in_sync == 1
    with pytest.raises(ValueError, match="TF_CONFIG"):
        if os.environ.get("TF_CONFIG"):
            pytest.skip("TF_CONFIG is set")
        distribute.make_strategy("multiworker", 2)
    with pytest.raises(ValueError, match="strategy"):
        Config(train=TrainConfig(strategy="tpu"))


def test_precision_policy_names():
    assert distribute.policy_name(False) == "float32"
    assert distribute.policy_name(True) in ("mixed_float16", "mixed_bfloat16")
    with distribute.dtype_policy("mixed_bfloat16"):
        from keras import layers

        assert layers.Dense(2).dtype_policy.name == "mixed_bfloat16"
    assert layers.Dense(2).dtype_policy.name == "float32"


def _tiny_srgan(policy="float32"):
    keras.utils.set_random_seed(0)
    cfg = ModelConfig(**TINY_MODEL)
    with distribute.dtype_policy(policy):
        extractor = build_vgg16(["block1_conv2"], weights=None)
        model = SRGAN(build_generator(cfg), build_discriminator(cfg, 32),
                      losses.Perceptual(extractor, "test", ("block1_conv2",), (1.0,), 1.0))
    return model


def _one_step(model, optimizers):
    rng = np.random.default_rng(0)
    hr = rng.uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
    lr = hr[:, ::4, ::4]
    model.compile(*optimizers, run_eagerly=True)  # eager: no minutes of graph tracing
    history = model.fit(tf.data.Dataset.from_tensors((lr, hr)), epochs=1, verbose=0)
    return {k: v[0] for k, v in history.history.items()}, model.generator.get_weights()


@pytest.mark.slow  # two steps of two models
def test_loss_scaling_makes_the_same_step():
    # mixed_float16's LossScaleOptimizer, here on float32 models: scaled loss, unscaled
    # gradients, the same update as plain Adam.
    plain = _one_step(_tiny_srgan(), [distribute.make_adam(1e-3, 0.9, n) for n in "gd"])
    scaled_opts = [distribute.make_adam(1e-3, 0.9, n, "mixed_float16") for n in "gd"]
    assert all(isinstance(o, keras.optimizers.LossScaleOptimizer) for o in scaled_opts)
    scaled = _one_step(_tiny_srgan(), scaled_opts)
    assert scaled[0] == pytest.approx(plain[0], rel=1e-5)
    for a, b in zip(scaled[1], plain[1]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_mixed_bfloat16_step_keeps_float32_weights_and_losses():
    model = _tiny_srgan("mixed_bfloat16")
    assert model.generator.get_layer("res0_conv1").compute_dtype == "bfloat16"
    logs, weights = _one_step(model, [distribute.make_adam(1e-3, 0.9, n) for n in "gd"])
    assert all(np.isfinite(v) for v in logs.values())
    assert all(w.dtype == np.float32 for w in weights)
    assert model.generator.output.dtype == "float32"
