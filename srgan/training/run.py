"""One training run, start to finish: build everything from a Config, resume, fit, save.

``train(cfg)`` is what ``train.py`` runs. It checks every output folder is writable before
any work, picks the data (or the sample faces), builds the frozen perceptual extractor,
resumes from the newest readable checkpoint, then runs the SRResNet pre-training epochs
and the GAN epochs that are still missing (``--epochs`` is a total, not "more").
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from pathlib import Path
from typing import Callable, Optional

import keras
import tensorflow as tf

from srgan import files, pretrained
from srgan.config import Config, DataConfig, save_config
from srgan.data import pipeline, stream
from srgan.models.discriminator import build_discriminator
from srgan.models.generators import build_generator, copy_weights
from srgan.models.weights import (GENERATOR_BEST_WEIGHTS, GENERATOR_WEIGHTS, export_generator,
                                  load_generator, read_card)
from srgan.training import (callbacks, checkpoint, distribute, losses, stopping,
                            validation)
from srgan.training.gan import SRGAN
from srgan.training.ema import GeneratorAverage
from srgan.training.schedules import PhaseSchedule, set_schedules

logger = logging.getLogger(__name__)


def _read_run_config(config_path: Path) -> dict:
    """The run's saved ``config.json`` (``{}`` when there is none yet).

    Raises:
        ValueError: one line naming the file, what is wrong and what to do.
    """
    if not config_path.is_file():
        return {}
    try:
        record = json.loads(config_path.read_text())
        if not isinstance(record, dict):
            raise ValueError("not a JSON object")
        return record
    except (ValueError, OSError) as e:
        raise ValueError(f"{config_path}: unreadable run configuration ({e}); the checkpoints "
                         f"beside it are intact: delete this file to resume with the flags "
                         f"given now") from None


def _resolve_perceptual(cfg: Config, config_path: Path, log) -> Config:
    """Resume with the backbone the run started with, so ``auto`` cannot switch mid-run."""
    if cfg.loss.perceptual != "auto":
        return cfg
    saved = _read_run_config(config_path).get("resolved", {}).get("backbone")
    if saved:
        log(f"perceptual: auto -> {saved}, as recorded in {config_path}")
        return dataclasses.replace(cfg, loss=dataclasses.replace(cfg.loss, perceptual=saved))
    return cfg


def _check_same_model(cfg: Config, config_path: Path) -> None:
    saved = _read_run_config(config_path).get("model", {})
    diff = {k: (saved[k], v) for k, v in cfg.to_dict()["model"].items()
            if k in saved and saved[k] != v}
    if diff:
        changes = ", ".join(f"{k} {a!r} -> {b!r}" for k, (a, b) in diff.items())
        raise ValueError(f"{config_path}: this run's model differs from the checkpoint's "
                         f"({changes}); use another --checkpoint-dir")


def build_run(cfg: Config, log: Callable[[str], None] = logger.info):
    """Build networks, optimizers and state for ``cfg``; restore the newest checkpoint,
    or on a fresh run load ``--init-from`` weights.

    Returns ``(model, state, perceptual, average)``; ``model`` is an uncompiled
    :class:`SRGAN`, ``average`` the generator's :class:`GeneratorAverage` or None.
    """
    t = cfg.train
    ckpt_dir = files.check_writable_dir(Path(t.checkpoint_dir))
    config_path = ckpt_dir / "config.json"
    _check_same_model(cfg, config_path)
    cfg = _resolve_perceptual(cfg, config_path, log)
    policy = distribute.policy_name(t.mixed_precision)
    with distribute.dtype_policy(policy):
        perceptual = losses.build_perceptual(cfg.loss)
    log(f"perceptual: {perceptual.backbone} {perceptual.layer}, "
        f"feature scale {perceptual.feature_scale:.4g}")
    with distribute.dtype_policy(policy):
        generator = build_generator(cfg.model)
        discriminator = build_discriminator(cfg.model, cfg.data.crop or cfg.data.hr_size)
        average = (GeneratorAverage(generator, build_generator(cfg.model), t.ema_decay)
                   if t.ema_decay else None)
    # train() builds under its strategy's scope: variables are mirrored over the replicas.
    distribute.sync_batch_norm([generator, discriminator], tf.distribute.get_strategy())
    # Schedules from the start, so no rate is a variable that a restore would bring back;
    # train() sets each phase's own before compiling it (set_schedules).
    g_opt = distribute.make_adam(PhaseSchedule(t.g_lr, "constant", 1), t.beta_1, "g_adam",
                                 policy)
    d_opt = distribute.make_adam(PhaseSchedule(t.d_lr, "constant", 1), t.beta_1, "d_adam",
                                 policy)
    state = checkpoint.TrainingState(ckpt_dir, generator, discriminator, g_opt, d_opt,
                                     average)
    restored = state.restore(log)
    if restored:
        log(f"resuming from {restored}: step {state.step}, "
            f"pretrain epochs {int(state.pretrain_epochs.numpy())}/{t.pretrain_epochs}, "
            f"GAN epochs {int(state.gan_epochs.numpy())}/{t.epochs}")
    else:
        init = pretrained.init_weights_path(cfg, log)
        if init is not None:
            copy_weights(load_generator(init).model, generator)
            log(f"init: generator weights from {init}")
        if average is not None:
            average.reset()
    save_config(cfg, config_path, resolved=perceptual.describe())
    model = SRGAN(generator, discriminator, perceptual, cfg.loss.adv_weight,
                  t.pixel_loss, average.average if average is not None else None,
                  cfg.loss.pixel_weight)
    return model, state, perceptual, average


def _stream_position(paths, seed: int, batch_size: int, state, guard) -> Callable[[], int]:
    """Returns ``f() ->`` the training-stream position after the last batch: the saved
    position plus the elements this run has consumed since, bad files included."""
    index = {str(p): i for i, p in enumerate(paths)}
    batches0, position0 = int(state.batches.numpy()), int(state.data_position.numpy())

    def position() -> int:
        bad = {index[name] for name in guard.bad if name in index}
        consumed = (int(state.batches.numpy()) - batches0) * batch_size
        return stream.advance(len(paths), seed, position0, consumed, bad)

    return position


def _fits(done: int, total: int, steps: int, partial: int) -> list[tuple[int, int, int]]:
    """``model.fit`` calls ``(initial_epoch, epochs, steps_per_epoch)`` that finish a phase
    with ``done`` of ``total`` epochs and ``partial`` steps of the next one already done."""
    if not partial:
        return [(done, total, steps)]
    rest = [(done + 1, total, steps)] if done + 1 < total else []
    return [(done, done + 1, max(1, steps - partial))] + rest


def train(cfg: Config, log: Callable[[str], None] = logger.info, verbose="auto") -> SRGAN:
    """Run (or resume) training as configured. Returns the trained :class:`SRGAN`."""
    # First: a multi-worker strategy must exist before other TensorFlow work. A non-chief
    # worker gets a config that writes to a temporary folder (srgan.training.distribute).
    strategy = distribute.make_strategy(cfg.train.strategy, cfg.data.batch_size)
    cfg = distribute.worker_config(cfg, strategy, log)
    t, d = cfg.train, cfg.data
    keras.utils.set_random_seed(t.seed)
    if t.deterministic:
        tf.config.experimental.enable_op_determinism()
        if os.environ.get("TF_ENABLE_ONEDNN_OPTS") != "0":
            logger.warning("--deterministic with oneDNN on: reruns may differ in the last "
                           "bits (set TF_ENABLE_ONEDNN_OPTS=0 before TensorFlow starts; "
                           "train.py does)")
    results_dir = files.check_writable_dir(Path(t.results_dir))
    logdir = files.check_writable_dir(Path(t.logdir))
    # The built-in sample faces stand in for the default data/ only, never for a
    # folder the user named. Validation files are held out of the first folder.
    default = d.data_dirs == DataConfig().data_dirs
    groups = [pipeline.find_images(folder, default, log) for folder in d.data_dirs]
    paths, val_paths = validation.split_paths(groups[0], cfg, log)
    paths = paths + [p for group in groups[1:] for p in group]
    with strategy.scope():
        model, state, perceptual, average = build_run(cfg, log)
    guard = pipeline.DecodeGuard(len(paths), d.max_pixels, d.max_bad_fraction)
    position = _stream_position(paths, t.seed, d.batch_size, state, guard)
    steps = t.steps_per_epoch or max(1, len(paths) // d.batch_size)
    lr_samples, hr_samples, _ = pipeline.load_samples(paths, t.num_samples, d.hr_size,
                                                      cfg.model.scale, d.max_pixels,
                                                      d.degradation)
    writer = tf.summary.create_file_writer(str(logdir))
    optimizers = {"generator": state.g_optimizer, "discriminator": state.d_optimizer}
    hardware = distribute.describe_hardware()

    def export(name: str = GENERATOR_WEIGHTS, **extra):
        card = {"hr_size": d.hr_size, "perceptual": perceptual.describe(),
                "training": {"step": state.step, "phase": model.phase,
                             "hours": round(state.tick() / 3600, 3),
                             "hardware": hardware, "data": list(d.data_dirs),
                             "crop": d.crop, "batch_size": d.batch_size,
                             "pixel_loss": t.pixel_loss, "ema_decay": t.ema_decay,
                             "init_from": t.init_from}}
        export_generator(model.inference_generator, cfg.model, state.dir / name,
                         {**card, **extra})

    validator = validation.build_callback(
        cfg, val_paths, writer, state.dir,
        lambda **extra: export(GENERATOR_BEST_WEIGHTS, **extra),
        lambda: state.step, log, every=t.val_every)

    phases = (("pretrain", t.pretrain_epochs, state.pretrain_epochs),
              ("gan", t.epochs, state.gan_epochs))
    with stopping.GracefulStop(log) as stop:
        for phase, total, counter in phases:
            done = int(counter.numpy())
            if done >= total:
                continue
            log(f"{phase}: epochs {done + 1}..{total}, {steps} steps each, "
                f"batch {d.batch_size}")
            set_schedules(cfg, state, phase, steps, log)
            model.compile(optimizers["generator"], optimizers["discriminator"], phase=phase,
                          jit_compile=t.jit)
            # The progress bar first, so its epoch line ends before checkpoint messages;
            # the average next, so that what is validated and saved includes this step.
            cbs = [keras.callbacks.ProgbarLogger(),
                   *([callbacks.AverageCallback(average)] if average else []),
                   callbacks.TensorBoardLogger(writer, phase, optimizers, t.log_every),
                   callbacks.TriptychCallback(lr_samples, hr_samples, results_dir, writer,
                                              t.sample_every,
                                              "epoch" if phase == "gan" else "pretrain",
                                              lambda: state.step),
                   *([validator] if validator else []),
                   stopping.NonFiniteGuard(state, phase),
                   callbacks.CheckpointCallback(state, counter, export, log, position, stop,
                                                t.save_every)]
            for first, last, n in _fits(done, total, steps, int(state.epoch_step.numpy())):
                dataset = pipeline.make_dataset(paths, d, cfg.model.scale, t.seed, guard,
                                                position())
                try:
                    model.fit(dataset, epochs=last, initial_epoch=first, steps_per_epoch=n,
                              callbacks=cbs, verbose=verbose, shuffle=False)
                except tf.errors.OpError:
                    if guard.error:
                        raise guard.error from None
                    raise
    if guard.bad:
        log(f"data: skipped {len(guard.bad)} of {len(paths)} files that could not be decoded")
    if all(int(c.numpy()) >= total for _, total, c in phases):
        log(f"done: {int(state.gan_epochs.numpy())} GAN epochs, step {state.step}; "
            f"generator at {state.dir / GENERATOR_WEIGHTS}")
    return model
