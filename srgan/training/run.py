"""One training run, start to finish: build everything from a Config, resume, fit, save.

``train(cfg)`` is what ``train.py`` runs: a :class:`Trainer`, whose steps check every
output folder is writable before any work, pick the data (or the sample faces), build the
frozen perceptual extractor, resume from the newest readable checkpoint, then run the
SRResNet pre-training epochs and the GAN epochs that are still missing (``--epochs`` is a
total, not "more").
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from pathlib import Path
from typing import Callable, NamedTuple, Optional

import keras
import tensorflow as tf

from srgan import files, pretrained
from srgan.config import Config, DataConfig, save_config
from srgan.data import pipeline, stream
from srgan.models.discriminator import build_discriminator
from srgan.models.generators import build_generator, copy_weights
from srgan.models.weights import (GENERATOR_BEST_WEIGHTS, GENERATOR_WEIGHTS, export_generator,
                                  load_generator)
from srgan.training import (callbacks, checkpoint, distribute, losses, progress, stopping,
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


def repeated(groups: list[list[Path]], repeats: tuple[int, ...],
             log: Callable[[str], None] = logger.info) -> list[Path]:
    """The training stream's file list: each folder's files (``groups``, in
    ``--data`` order) ``repeats[k]`` times over (once each when ``repeats`` is empty), so
    a small folder can weigh as much as a large one in the shuffled stream."""
    if not repeats:
        return [p for group in groups for p in group]
    paths = [p for group, n in zip(groups, repeats) for _ in range(n) for p in group]
    shares = ", ".join(f"{len(g) * n / len(paths):.0%}" for g, n in zip(groups, repeats))
    log(f"data: {len(paths)} stream entries from {len(set(paths))} files (--data-repeat "
        f"{' '.join(map(str, repeats))}: {shares} of the stream by folder)")
    return paths


def _stream_position(paths, seed: int, batch_size: int, state, guard) -> Callable[[], int]:
    """Returns ``f() ->`` the training-stream position after the last batch: the saved
    position plus the elements this run has consumed since, bad files included."""
    index: dict[str, list[int]] = {}  # a file listed twice (--data-repeat) has two places
    for i, p in enumerate(paths):
        index.setdefault(str(p), []).append(i)
    batches0, position0 = int(state.batches.numpy()), int(state.data_position.numpy())

    def position() -> int:
        bad = {i for name in guard.bad for i in index.get(name, ())}
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


class Phase(NamedTuple):
    """A phase of the run: ``name`` (``pretrain`` or ``gan``), its ``total`` epochs (the
    config's), and the checkpointed counter of the epochs done."""

    name: str
    total: int
    done: tf.Variable


class Trainer:
    """One training run (or its resumption) in named steps: :meth:`build` everything from
    the config, then for each phase :meth:`callbacks` and :meth:`run_phase`, with
    :meth:`export` writing the generator and its card. :meth:`run` does them in order.

    Args:
        cfg: the run's configuration.
        log: the run's status lines (default: this module's logger).
        verbose: ``model.fit``'s: ``"auto"`` a progress bar, 2 one line per epoch, 0 none.
        origin: what the exported cards record of where ``cfg`` came from (a recipe's
            file and stage, :meth:`srgan.recipes.Stage.card`).
    """

    def __init__(self, cfg: Config, log: Callable[[str], None] = logger.info,
                 verbose="auto", origin: Optional[dict] = None):
        self.cfg, self.log, self.verbose, self.origin = cfg, log, verbose, origin or {}

    def run(self) -> SRGAN:
        """Build, run the phases that are not done yet, say what was done; returns the
        :class:`SRGAN`. Ctrl-C and SIGTERM save first, then raise ``Stopped``."""
        self.build()
        with stopping.GracefulStop() as stop:
            for phase in self.phases:
                if int(phase.done.numpy()) < phase.total:
                    self.run_phase(phase, stop)
        if self.guard.bad:
            self.log(f"data: skipped {len(self.guard.bad)} of {self.guard.total} files that "
                     f"could not be decoded")
        if all(int(p.done.numpy()) >= p.total for p in self.phases):
            self.log(f"done: {int(self.state.gan_epochs.numpy())} GAN epochs, step "
                     f"{self.state.step}; generator at {self.state.dir / GENERATOR_WEIGHTS}")
        return self.model

    def build(self) -> None:
        """Strategy, seeds, output folders, data, networks and state (resumed or fresh),
        validation; everything the phases share."""
        # First: a multi-worker strategy must exist before other TensorFlow work. A
        # non-chief worker gets a config that writes to a temporary folder.
        strategy = distribute.make_strategy(self.cfg.train.strategy, self.cfg.data.batch_size)
        self.cfg = cfg = distribute.worker_config(self.cfg, strategy, self.log)
        t, d = cfg.train, cfg.data
        keras.utils.set_random_seed(t.seed)
        if t.deterministic:
            tf.config.experimental.enable_op_determinism()
            if os.environ.get("TF_ENABLE_ONEDNN_OPTS") != "0":
                logger.warning("--deterministic with oneDNN on: reruns may differ in the last "
                               "bits (set TF_ENABLE_ONEDNN_OPTS=0 before TensorFlow starts; "
                               "train.py does)")
        self.results_dir = files.check_writable_dir(Path(t.results_dir))
        logdir = files.check_writable_dir(Path(t.logdir))
        # The built-in sample faces stand in for the default data/ only, never for a
        # folder the user named. Validation files are held out of the first folder.
        default = d.data_dirs == DataConfig().data_dirs
        groups = [pipeline.find_images(folder, default, self.log) for folder in d.data_dirs]
        groups[0], val_paths = validation.split_paths(groups[0], cfg, self.log)
        self.paths = repeated(groups, d.data_repeat, self.log)
        distinct = len(set(self.paths))  # files; self.paths lists a repeated one each time
        # Only the default data/ can fall back to the samples (find_images).
        only_samples = default and self.paths and set(self.paths) <= set(
            pipeline.sample_face_paths())
        self.hint = None if not only_samples else (
            f"data: only the {distinct} built-in sample faces; for a first look that "
            f"takes minutes, not hours: {progress.QUICK_COMMAND} (real faces: data/README.md)")
        with strategy.scope():
            self.model, self.state, self.perceptual, self.average = build_run(cfg, self.log)
        self.guard = pipeline.DecodeGuard(distinct, d.max_pixels, d.max_bad_fraction)
        self.position = _stream_position(self.paths, t.seed, d.batch_size, self.state,
                                         self.guard)
        self.steps = t.steps_per_epoch or max(1, len(self.paths) // d.batch_size)
        self.samples = pipeline.load_samples(self.paths, t.num_samples, d.hr_size,
                                             cfg.model.scale, d.max_pixels, d.degradation)[:2]
        self.writer = tf.summary.create_file_writer(str(logdir))
        self.optimizers = {"generator": self.state.g_optimizer,
                           "discriminator": self.state.d_optimizer}
        self.hardware = distribute.describe_hardware()
        self.validator = validation.build_callback(
            cfg, val_paths, self.writer, self.state.dir,
            lambda **extra: self.export(GENERATOR_BEST_WEIGHTS, **extra),
            lambda: self.state.step, self.log, every=t.val_every)
        self.phases = (Phase("pretrain", t.pretrain_epochs, self.state.pretrain_epochs),
                       Phase("gan", t.epochs, self.state.gan_epochs))

    def export(self, name: str = GENERATOR_WEIGHTS, **extra) -> None:
        """Write the generator the run would ship (its moving average, if any) as
        ``name`` in the checkpoint folder, with its card: the architecture, the training
        facts and ``extra`` (validation scores)."""
        d, t = self.cfg.data, self.cfg.train
        card = {"hr_size": d.hr_size, "perceptual": self.perceptual.describe(),
                "training": {"step": self.state.step, "phase": self.model.phase,
                             "hours": round(self.state.tick() / 3600, 3),
                             "hardware": self.hardware, "data": list(d.data_dirs),
                             **({"data_repeat": list(d.data_repeat)} if d.data_repeat else {}),
                             "crop": d.crop, "batch_size": d.batch_size,
                             "pixel_loss": t.pixel_loss, "ema_decay": t.ema_decay,
                             "init_from": t.init_from, **self.origin}}
        if d.aligned_faces:  # --face-enhance reads it: srgan.inference.faces
            card["aligned_faces"] = True
        export_generator(self.model.inference_generator, self.cfg.model,
                         self.state.dir / name, {**card, **extra})

    def callbacks(self, phase: Phase, stop: stopping.GracefulStop) -> list:
        """The callbacks of one phase, in the order they must run after each step."""
        t = self.cfg.train
        lr_samples, hr_samples = self.samples
        # The progress bar first, so its epoch line ends before checkpoint messages;
        # the average next, so that what is validated and saved includes this step.
        return [keras.callbacks.ProgbarLogger(),
                *([callbacks.AverageCallback(self.average)] if self.average else []),
                callbacks.TensorBoardLogger(self.writer, phase.name, self.optimizers,
                                            t.log_every),
                callbacks.TriptychCallback(lr_samples, hr_samples, self.results_dir,
                                           self.writer, t.sample_every,
                                           "epoch" if phase.name == "gan" else "pretrain",
                                           lambda: self.state.step),
                *([self.validator] if self.validator else []),
                stopping.NonFiniteGuard(self.state, phase.name),
                callbacks.CheckpointCallback(self.state, phase.done, self.export, self.log,
                                             self.position, stop, t.save_every),
                self.clock(phase)]

    def clock(self, phase: Phase) -> progress.ProgressCallback:
        """``phase``'s :class:`~srgan.training.progress.ProgressCallback`: the steps left
        in it and in the phases after it; the first one also suggests the quick command
        when the data is only the sample faces."""
        done = int(phase.done.numpy())
        left = (phase.total - done) * self.steps - int(self.state.epoch_step.numpy())
        later = self.phases[next(i for i, p in enumerate(self.phases) if p is phase) + 1:]
        hint, self.hint = self.hint, None  # with the first plan only
        return progress.ProgressCallback(
            phase.name, (done + 1, phase.total), left, self.steps,
            [(p.name, (p.total - int(p.done.numpy())) * self.steps) for p in later],
            self.writer, lambda: self.state.step, hint)

    def run_phase(self, phase: Phase, stop: stopping.GracefulStop) -> None:
        """Train ``phase``'s missing epochs (and the rest of an unfinished one): its
        learning-rate schedule, compile, then ``fit`` on the data stream from where the
        last save left it."""
        d, t = self.cfg.data, self.cfg.train
        done = int(phase.done.numpy())
        self.log(f"{phase.name}: epochs {done + 1}..{phase.total}, {self.steps} steps each, "
                 f"batch {d.batch_size}")
        set_schedules(self.cfg, self.state, phase.name, self.steps, self.log)
        self.model.compile(self.optimizers["generator"], self.optimizers["discriminator"],
                           phase=phase.name, jit_compile=t.jit)
        cbs = self.callbacks(phase, stop)
        for first, last, n in _fits(done, phase.total, self.steps,
                                    int(self.state.epoch_step.numpy())):
            dataset = pipeline.make_dataset(self.paths, d, self.cfg.model.scale, t.seed,
                                            self.guard, self.position())
            try:
                self.model.fit(dataset, epochs=last, initial_epoch=first, steps_per_epoch=n,
                               callbacks=cbs, verbose=self.verbose, shuffle=False)
            except tf.errors.OpError:
                if self.guard.error:
                    raise self.guard.error from None
                raise


def train(cfg: Config, log: Callable[[str], None] = logger.info, verbose="auto",
          origin: Optional[dict] = None) -> SRGAN:
    """Run (or resume) training as configured (:class:`Trainer`). Returns the trained
    :class:`SRGAN`."""
    return Trainer(cfg, log, verbose, origin).run()
