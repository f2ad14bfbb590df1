"""One training run, start to finish: build everything from a Config, resume, fit, save.

``train(cfg)`` is what ``train.py`` runs. It checks every output folder is writable before
any work, picks the data (or the sample faces), builds the frozen perceptual extractor,
resumes from the newest readable checkpoint, then runs the SRResNet pre-training epochs
and the GAN epochs that are still missing (``--epochs`` is a total, not "more").
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Callable

import keras
import tensorflow as tf

from srgan import callbacks, checkpoint, data, files, losses
from srgan.config import Config, DataConfig, save_config
from srgan.models import build_discriminator, build_generator
from srgan.trainer import SRGAN


def _resolve_perceptual(cfg: Config, config_path: Path, log) -> Config:
    """Resume with the backbone the run started with, so ``auto`` cannot switch mid-run."""
    if cfg.loss.perceptual != "auto" or not config_path.is_file():
        return cfg
    saved = json.loads(config_path.read_text()).get("resolved", {}).get("backbone")
    if saved:
        log(f"perceptual: auto -> {saved}, as recorded in {config_path}")
        return dataclasses.replace(cfg, loss=dataclasses.replace(cfg.loss, perceptual=saved))
    return cfg


def _check_same_model(cfg: Config, config_path: Path) -> None:
    if not config_path.is_file():
        return
    saved = json.loads(config_path.read_text()).get("model", {})
    diff = {k: (saved[k], v) for k, v in cfg.to_dict()["model"].items()
            if k in saved and saved[k] != v}
    if diff:
        changes = ", ".join(f"{k} {a!r} -> {b!r}" for k, (a, b) in diff.items())
        raise ValueError(f"{config_path}: this run's model differs from the checkpoint's "
                         f"({changes}); use another --checkpoint-dir")


def build_run(cfg: Config, log: Callable[[str], None] = print):
    """Build networks, optimizers and state for ``cfg``; restore the newest checkpoint.

    Returns ``(model, state, perceptual)``; ``model`` is an uncompiled :class:`SRGAN`.
    """
    t = cfg.train
    ckpt_dir = files.check_writable_dir(Path(t.checkpoint_dir))
    config_path = ckpt_dir / "config.json"
    _check_same_model(cfg, config_path)
    cfg = _resolve_perceptual(cfg, config_path, log)
    perceptual = losses.build_perceptual(cfg.loss)
    log(f"perceptual: {perceptual.backbone} {perceptual.layer}, "
        f"feature scale {perceptual.feature_scale:.4g}")
    generator = build_generator(cfg.model)
    discriminator = build_discriminator(cfg.model, cfg.data.crop or cfg.data.hr_size)
    g_opt = keras.optimizers.Adam(t.g_lr, beta_1=t.beta_1, name="g_adam")
    d_opt = keras.optimizers.Adam(t.d_lr, beta_1=t.beta_1, name="d_adam")
    state = checkpoint.TrainingState(ckpt_dir, generator, discriminator, g_opt, d_opt)
    restored = state.restore(log)
    if restored:
        log(f"resuming from {restored}: step {state.step}, "
            f"pretrain epochs {int(state.pretrain_epochs.numpy())}/{t.pretrain_epochs}, "
            f"GAN epochs {int(state.gan_epochs.numpy())}/{t.epochs}")
    save_config(cfg, config_path, resolved=perceptual.describe())
    model = SRGAN(generator, discriminator, perceptual, cfg.loss.adv_weight)
    return model, state, perceptual


def train(cfg: Config, log: Callable[[str], None] = print, verbose="auto") -> SRGAN:
    """Run (or resume) training as configured. Returns the trained :class:`SRGAN`."""
    t, d = cfg.train, cfg.data
    keras.utils.set_random_seed(t.seed)
    results_dir = files.check_writable_dir(Path(t.results_dir))
    logdir = files.check_writable_dir(Path(t.logdir))
    # The built-in sample faces stand in for the default data/ only, never for a
    # folder the user named.
    paths = data.find_images(d.data_dir, d.data_dir == DataConfig.data_dir, log)
    model, state, perceptual = build_run(cfg, log)
    guard = data.DecodeGuard(len(paths), d.max_pixels)
    dataset = data.make_dataset(paths, d, cfg.model.scale, t.seed, guard)
    steps = t.steps_per_epoch or max(1, len(paths) // d.batch_size)
    lr_samples, hr_samples, _ = data.load_samples(paths, t.num_samples, d.hr_size,
                                                  cfg.model.scale, d.max_pixels)
    writer = tf.summary.create_file_writer(str(logdir))
    optimizers = {"generator": state.g_optimizer, "discriminator": state.d_optimizer}
    export_meta = {"hr_size": d.hr_size, "perceptual": perceptual.describe()}

    def export():
        checkpoint.export_generator(model.generator, cfg.model,
                                    state.dir / checkpoint.GENERATOR_WEIGHTS, export_meta)

    phases = (("pretrain", t.pretrain_epochs, state.pretrain_epochs),
              ("gan", t.epochs, state.gan_epochs))
    for phase, total, counter in phases:
        done = int(counter.numpy())
        if done >= total:
            continue
        log(f"{phase}: epochs {done + 1}..{total}, {steps} steps each, batch {d.batch_size}")
        model.compile(optimizers["generator"], optimizers["discriminator"], phase=phase)
        # The progress bar first, so its epoch line ends before checkpoint messages.
        cbs = [keras.callbacks.ProgbarLogger(), callbacks.TensorBoardLogger(writer, phase, optimizers),
               callbacks.TriptychCallback(lr_samples, hr_samples, results_dir, writer,
                                          t.sample_every,
                                          "epoch" if phase == "gan" else "pretrain",
                                          lambda: state.step),
               callbacks.CheckpointCallback(state, counter, export, log)]
        try:
            model.fit(dataset, epochs=total, initial_epoch=done, steps_per_epoch=steps,
                      callbacks=cbs, verbose=verbose, shuffle=False)
        except tf.errors.OpError:
            if guard.error:
                raise guard.error from None
            raise
    if all(int(c.numpy()) >= total for _, total, c in phases):
        log(f"done: {int(state.gan_epochs.numpy())} GAN epochs, step {state.step}; "
            f"generator at {state.dir / checkpoint.GENERATOR_WEIGHTS}")
    return model
