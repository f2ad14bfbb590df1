"""Where and how the training step runs: precision policy, optimizers, tf.distribute.

* Mixed precision (``--mixed-precision``): ``mixed_float16`` with dynamic loss scaling on a
  GPU, ``mixed_bfloat16`` (no loss scaling needed) on a CPU. Variables stay float32; the
  generator's last layer and the discriminator's logits are float32, so losses are too.
  On a CPU without native bfloat16 it is slower (``python -m benchmarks.bench`` shows it).
* Strategies (``--strategy``): ``default`` (one device), ``mirrored`` (all local GPUs, or
  the logical CPU devices), ``multiworker`` (hosts listed in ``TF_CONFIG``). The batch size
  is global: each of ``R`` replicas gets ``batch_size / R`` examples, and per-example losses
  are averaged over the global batch (``tf.nn.compute_average_loss``), so one step makes
  the same update whatever ``R`` is. BatchNorm then synchronises its batch statistics
  across replicas, so that holds for the normalisation too.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

import keras
import tensorflow as tf

from srgan.config import STRATEGIES


def policy_name(mixed_precision: bool) -> str:
    """``float32``, or the mixed policy for this machine (float16 on GPU, else bfloat16)."""
    if not mixed_precision:
        return "float32"
    return "mixed_float16" if tf.config.list_physical_devices("GPU") else "mixed_bfloat16"


@contextlib.contextmanager
def dtype_policy(name: str) -> Iterator[None]:
    """Build layers under Keras dtype policy ``name``; the previous policy is restored."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def describe_hardware() -> str:
    """One line for a model card: CPU model and cores, and the GPUs if any."""
    import platform

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f
                        if line.startswith("model name")), cpu)
    except OSError:
        pass
    gpus = tf.config.list_physical_devices("GPU")
    gpu = f"{len(gpus)} GPU" if gpus else "no GPU"
    return f"{os.cpu_count()} CPU cores ({cpu}), {gpu}"


def make_adam(learning_rate, beta_1: float, name: str,
              policy: str = "float32") -> keras.optimizers.Optimizer:
    """Adam, wrapped in a dynamic ``LossScaleOptimizer`` under ``mixed_float16``.

    ``learning_rate``: a float or a ``LearningRateSchedule``.

    The GAN model multiplies each loss by ``optimizer.scale_loss`` inside its tape; plain
    optimizers leave it unchanged, the wrapper scales it and unscales the gradients.
    """
    adam = keras.optimizers.Adam(learning_rate, beta_1=beta_1, name=name)
    if policy == "mixed_float16":
        return keras.optimizers.LossScaleOptimizer(adam, name=f"{name}_scaled")
    return adam


def make_strategy(name: str, batch_size: int) -> tf.distribute.Strategy:
    """The ``tf.distribute`` strategy called ``name``; checks ``batch_size`` splits evenly.

    ``mirrored`` replicates over all local GPUs, or over the logical CPU devices when
    there is no GPU (one, unless configured with ``tf.config.set_logical_device_configuration``).
    ``multiworker`` reads the cluster from ``TF_CONFIG`` and must be created before any
    other TensorFlow work in the process.

    Raises:
        ValueError: unknown name, no ``TF_CONFIG`` for ``multiworker``, or a global batch
            that is not a multiple of the number of replicas.
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        devices = [d.name for d in tf.config.list_logical_devices("GPU")] or [
            d.name for d in tf.config.list_logical_devices("CPU")]
        strategy = tf.distribute.MirroredStrategy(devices)
    elif name == "multiworker":
        if not os.environ.get("TF_CONFIG"):
            raise ValueError("--strategy multiworker needs TF_CONFIG (the cluster's "
                             "workers and this process's task); see docs/performance.md")
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    else:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {name!r}")
    replicas = strategy.num_replicas_in_sync
    if batch_size % replicas:
        raise ValueError(f"batch size {batch_size} (global) is not a multiple of the "
                         f"{replicas} replicas of --strategy {name}")
    return strategy


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """True unless this is a multi-worker run and this process is not its chief (the
    ``chief`` task, or worker 0 when there is none): the one that writes outputs."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return resolver.task_type == "chief" or (
        not has_chief and resolver.task_type == "worker" and resolver.task_id == 0)


def sync_batch_norm(models, strategy: tf.distribute.Strategy) -> None:
    """With several replicas, BatchNorm layers normalise with global-batch statistics."""
    if strategy.num_replicas_in_sync < 2:
        return
    for model in models:
        for layer in model.layers:  # functional models: their layers are all here
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.synchronized = True


def worker_config(cfg, strategy, log):
    """``cfg`` for this process: unchanged on the chief.

    A non-chief worker of a multi-worker run must still save (saving is a collective
    step) but must not overwrite the chief's files. As TensorFlow recommends, it writes
    to a temporary folder, removed when the process exits: checkpoints, exports, logs and
    samples. It resumes from a copy of the chief's ``config.json`` and saves, so
    ``--checkpoint-dir`` must be a folder every worker can read (shared storage).
    """
    if is_chief(strategy):
        return cfg
    resolver = strategy.cluster_resolver
    tmp = Path(tempfile.mkdtemp(prefix=f"srgan-{resolver.task_type}{resolver.task_id}-"))
    atexit.register(shutil.rmtree, tmp, True)
    chief = Path(cfg.train.checkpoint_dir)
    if (chief / "config.json").is_file():
        shutil.copy2(chief / "config.json", tmp / "config.json")
    if (chief / "state").is_dir():
        shutil.copytree(chief / "state", tmp / "state")
    log(f"{resolver.task_type} {resolver.task_id}: not the chief; writing to {tmp} "
        f"(removed at exit), resuming from {chief}")
    train = dataclasses.replace(cfg.train, checkpoint_dir=str(tmp), logdir=str(tmp / "logs"),
                                results_dir=str(tmp / "results"))
    return dataclasses.replace(cfg, train=train)
