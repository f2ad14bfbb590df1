"""L1 fine-tuning of a shipped generator on a GPU through Keras's JAX backend.

``train.py`` runs on TensorFlow, whose pipeline (``tf.data``) and CPU layers need it. A
machine with a GPU and JAX but no TensorFlow can still continue the pixel-loss stage of a
generator with this script, in two steps:

1. ``pack``, here, with the project installed (TensorFlow): the training faces and the
   validation faces as ``train.py`` would see them, in one ``.npz``::

       python -m scripts.finetune_jax pack --data $FACES_HQ -o faces_hq_pack.npz

   The split is ``train.py``'s (:func:`srgan.training.validation.split_paths`: the same
   14 of 145 faces held out), each face the HR that :func:`srgan.data.transforms.prepare_hr`
   makes for crop training (square, shrunk to ``hr_size``), the validation LR that
   :func:`srgan.data.pipeline.load_samples` makes. Nothing is downloaded.

2. ``train``, on the GPU machine, with ``KERAS_BACKEND=jax`` (set here when unset), keras,
   jax and h5py, without TensorFlow::

       python -m scripts.finetune_jax train --pack faces_hq_pack.npz \\
           --init-from weights/srresnet_x4_faces.weights.h5 --steps 20000 -o run

   It trains the plain Keras build of the generator the card describes
   (``build_generator(cfg, fast=False)``: the layers shipped weight files hold) as
   ``train.py``'s pretrain phase does: random ``--crop`` HR patches flipped left-right with
   probability 1/2, LR the antialiased bicubic x1/scale rounded to 8-bit levels (computed
   on the GPU by ``jax.image.resize``, which gives TensorFlow's values), L1 on [-1, 1],
   Adam (beta_1 0.9) on a cosine schedule to 1 % of ``--lr``, and the moving average of
   the weights (:func:`srgan.training.ema.ema_decay_at`'s warm-up). Batches are drawn
   from ``(--seed, step)`` alone. Every ``--val-every`` steps the average is scored on the
   validation faces (PSNR-Y, scale border cropped, as ``evaluate.py``); the best is
   exported with its card (``generator_best.weights.h5`` + ``.json``, what
   ``scripts.release_weights`` reads), the curve to ``validation.csv`` and snapshots
   of the average to ``snapshots.npz`` (float16) so LPIPS can be scored later on the
   CPU. ``--steps auto --seconds S`` times 200 steps first (after 20 that warm up) and
   picks the step count that fits ``S`` seconds (the card records the count).

LPIPS and SSIM need TensorFlow here, so the curve holds PSNR-Y; score the snapshots with
``python -m scripts.finetune_jax score RUN`` on a machine with the project installed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from scripts.keras_jax import (cosine_rate, mean_psnr_y, rate_slot, require_jax_backend,
                               save_snapshot, to_levels, write_rows)

PACK_KEYS = ("train_hr", "val_lr", "val_hr", "bicubic_psnr", "scale")


def pack(data_dir: str, out: Path, hr_size: int, scale: int) -> None:
    """Write ``out`` (.npz): ``train_hr (N, S, S, 3)`` uint8, ``val_lr (V, S/scale, S/scale,
    3)`` float32 in [-1, 1], ``val_hr (V, S, S, 3)`` uint8, the bicubic PSNR-Y of the
    validation faces and the scale. Needs TensorFlow (the project's own transforms)."""
    import tensorflow as tf

    from srgan import files
    from srgan.config import Config
    from srgan.data import pipeline, transforms
    from srgan.inference.upscale import interpolate
    from srgan.pixels import to_uint8
    from srgan.training.validation import split_paths

    cfg = Config()
    train, val = split_paths(pipeline.find_images(data_dir, allow_samples=False), cfg, print)
    faces = []
    for path in train:
        image = files.read_image(path, max_pixels=cfg.data.max_pixels)
        if min(image.shape[:2]) < hr_size:
            raise ValueError(f"{path}: {image.shape[1]}x{image.shape[0]}, smaller than the "
                             f"{hr_size} px HR: a pack holds faces of at least that size")
        faces.append(transforms.prepare_hr(image, hr_size, crop=hr_size).numpy())
    val_lr, val_hr, _ = pipeline.load_samples(val, len(val), hr_size, scale,
                                              cfg.data.max_pixels)
    val_hr = to_uint8(tf.constant(val_hr)).numpy()
    bicubic = mean_psnr_y([interpolate(lr, scale) for lr in to_uint8(tf.constant(val_lr)).numpy()],
                          val_hr, scale)
    with files.atomic_path(out) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, train_hr=np.stack(faces).astype(np.uint8), val_lr=val_lr,
                                val_hr=val_hr, bicubic_psnr=bicubic, scale=scale)
    print(f"wrote {out}: {len(faces)} training and {len(val)} validation faces at {hr_size} "
          f"px (bicubic PSNR-Y {bicubic:.2f}), {out.stat().st_size / 1e6:.1f} MB")


def train(args) -> int:
    require_jax_backend()
    import jax
    import keras
    import jax.numpy as jnp

    from srgan.models.generators import build_generator
    from srgan.models.weights import GENERATOR_BEST_WEIGHTS, export_generator, read_card

    data = np.load(args.pack)
    missing = [k for k in PACK_KEYS if k not in data]
    if missing:
        raise SystemExit(f"error: {args.pack}: not a pack (no {', '.join(missing)}); make "
                         f"one with `python -m scripts.finetune_jax pack`")
    card, cfg = read_card(Path(args.init_from))
    scale = int(data["scale"])
    if cfg.scale != scale:
        raise SystemExit(f"error: {args.init_from}: x{cfg.scale}, the pack is x{scale}")
    if args.crop % scale or args.crop > data["train_hr"].shape[1]:
        raise SystemExit(f"error: --crop {args.crop} must be a multiple of {scale} and at "
                         f"most the pack's {data['train_hr'].shape[1]} px")
    model = build_generator(cfg, fast=False)
    model.load_weights(args.init_from)
    faces = jnp.asarray(data["train_hr"])
    val_lr, val_hr = data["val_lr"], data["val_hr"]
    bicubic = float(data["bicubic_psnr"])
    n, crop, batch, lr_side = faces.shape[0], args.crop, args.batch_size, args.crop // scale
    side = faces.shape[1]

    def make_batch(key):
        """``(lr (B, c/s, c/s, 3), hr (B, c, c, 3))`` in [-1, 1], drawn from ``key``."""
        k_index, k_y, k_x, k_flip = jax.random.split(key, 4)
        index = jax.random.randint(k_index, (batch,), 0, n)
        ys = jax.random.randint(k_y, (batch,), 0, side - crop + 1)
        xs = jax.random.randint(k_x, (batch,), 0, side - crop + 1)
        flips = jax.random.bernoulli(k_flip, 0.5, (batch,))

        def one(i, y, x, flip):
            hr = jax.lax.dynamic_slice(faces[i], (y, x, 0), (crop, crop, 3)).astype(jnp.float32)
            hr = jnp.where(flip, hr[:, ::-1], hr)
            lr = jax.image.resize(hr, (lr_side, lr_side, 3), "cubic", antialias=True)
            return jnp.round(jnp.clip(lr, 0.0, 255.0)), hr

        lr, hr = jax.vmap(one)(index, ys, xs, flips)
        return lr / 127.5 - 1.0, hr / 127.5 - 1.0

    optimizer = keras.optimizers.Adam(learning_rate=args.lr, beta_1=0.9)
    optimizer.build(model.trainable_variables)
    rate_index = rate_slot(optimizer)

    def loss_fn(trainable, fixed, lr, hr):
        sr, fixed = model.stateless_call(trainable, fixed, lr, training=True)
        return jnp.mean(jnp.abs(sr - hr)), fixed

    @jax.jit
    def step_fn(state, step, total):
        """Optimizer step ``step`` (from 1) of ``total``: the batch, L1, Adam at the cosine
        rate of :class:`srgan.training.schedules.PhaseSchedule` (to 1 % of ``--lr``), then
        the moving average (:func:`srgan.training.ema.ema_decay_at`'s warm-up)."""
        trainable, fixed, opt_vars, average = state
        lr, hr = make_batch(jax.random.fold_in(jax.random.key(args.seed), step))
        (loss, fixed), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            trainable, fixed, lr, hr)
        opt_vars = list(opt_vars)
        opt_vars[rate_index] = cosine_rate(args.lr, step, total)
        trainable, opt_vars = optimizer.stateless_apply(opt_vars, grads, trainable)
        n = step - 1.0
        d = jnp.minimum(args.ema, (1.0 + n) / (10.0 + n))
        average = [d * a + (1.0 - d) * t for a, t in zip(average, trainable)]
        return (trainable, fixed, opt_vars, average), loss

    @jax.jit
    def infer(average, fixed, lr):
        return model.stateless_call(average, fixed, lr, training=False)[0]

    def initial_state():
        trainable = [v.value for v in model.trainable_variables]
        return (trainable, [v.value for v in model.non_trainable_variables],
                [v.value for v in optimizer.variables], list(trainable))

    def validate(state) -> float:
        return mean_psnr_y(to_levels(infer(state[3], state[1], jnp.asarray(val_lr))), val_hr,
                           scale)

    total = args.steps
    if total == "auto":  # time 200 steps of a throw-away state, after 20 to warm up
        state = initial_state()
        for i in range(1, 221):
            if i == 21:
                jax.block_until_ready(state)
                t0 = time.perf_counter()
            state, loss = step_fn(state, i, 10**6)
        jax.block_until_ready(state)
        per_step = (time.perf_counter() - t0) / 200
        total = max(args.val_every, int(args.seconds / per_step) // args.val_every * args.val_every)
        print(f"auto: {per_step * 1e3:.2f} ms a step -> --steps {total} in {args.seconds:g} s",
              flush=True)
    total = int(total)
    state = initial_state()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = [{"phase": "pretrain", "epoch": 0, "step": 0, "psnr": validate(state),
             "bicubic_psnr": bicubic, "loss": float("nan"), "seconds": 0.0}]
    print(f"step 0: validation PSNR-Y {rows[0]['psnr']:.3f} (bicubic {bicubic:.3f})", flush=True)
    best, snapshots = rows[0]["psnr"], {}
    last = min(total, args.stop_after or total)
    snapshot_at = {int(last * k / args.snapshots) for k in range(1, args.snapshots + 1)}
    start, losses = time.perf_counter(), []
    device = jax.devices()[0].device_kind

    def export(path: Path, step: int, seconds: float, row: dict) -> None:
        for variable, value in zip(model.trainable_variables, state[3]):
            variable.assign(value)
        training = {"step": step, "phase": "pretrain", "hours": round(seconds / 3600, 3),
                    "hardware": f"1 {device} (Keras {keras.__version__} on JAX "
                                f"{jax.__version__}, float32)",
                    "data": [Path(args.pack).stem], "crop": crop, "batch_size": batch,
                    "pixel_loss": "l1", "ema_decay": args.ema, "learning_rate": args.lr,
                    "lr_schedule": "cosine", "steps": total, "stop_after": last,
                    "init_from": Path(args.init_from).name,
                    "command": "python -m scripts.finetune_jax " + " ".join(sys.argv[1:])}
        # The perceptual entry as the start's card records it (not in an L1 loss).
        perceptual = {"perceptual": card["perceptual"]} if "perceptual" in card else {}
        export_generator(model, cfg, path, {"hr_size": int(data["train_hr"].shape[1]),
                                             **perceptual, "training": training,
                                             "validation": {**row, "keep_best": "psnr"}})

    for step in range(1, last + 1):
        state, loss = step_fn(state, step, total)
        losses.append(loss)
        if step % args.val_every and step != last:
            continue
        seconds = time.perf_counter() - start
        row = {"phase": "pretrain", "epoch": 0, "step": step, "psnr": validate(state),
               "bicubic_psnr": bicubic, "loss": float(np.mean(jnp.stack(losses))),
               "seconds": round(seconds, 1)}
        losses = []
        rows.append(row)
        note = ""
        if row["psnr"] > best:
            best, note = row["psnr"], "; best so far, exported"
            export(out / GENERATOR_BEST_WEIGHTS, step, seconds, row)
        print(f"step {step}: loss {row['loss']:.5f} validation PSNR-Y {row['psnr']:.3f} "
              f"({seconds / step * 1e3:.1f} ms a step){note}", flush=True)
        if any(step >= s > step - args.val_every for s in snapshot_at):
            save_snapshot(out, snapshots, step, state[3])
        write_rows(out / "validation.csv", rows)
    if best == rows[0]["psnr"]:
        print(f"warning: no step beat the start ({best:.3f} dB): nothing exported to {out}",
              flush=True)
    print(f"done: {last} of {total} steps, best validation PSNR-Y {best:.3f} "
          f"({best - bicubic:+.3f} dB over bicubic)", flush=True)
    return 0


def score(run_dir: Path, init_from: str, pack_path: str) -> int:
    """LPIPS and PSNR-Y of each snapshot in ``run_dir/snapshots.npz`` on the pack's
    validation faces, in float32 here (TensorFlow); writes ``run_dir/snapshots.csv``."""
    from srgan.evaluation import evaluate, metrics
    from srgan.models.generators import build_generator
    from srgan.models.weights import read_card

    _, cfg = read_card(Path(init_from))
    model = build_generator(cfg, fast=False)
    data, snaps = np.load(pack_path), np.load(Path(run_dir) / "snapshots.npz")
    lpips = metrics.LPIPS()
    scale = int(data["scale"])
    rows = []
    for step in sorted({int(k.split("/")[0]) for k in snaps.files}):
        for i, variable in enumerate(model.trainable_variables):
            variable.assign(snaps[f"{step}/{i}"].astype(np.float32))
        sr8 = to_levels(model.predict(data["val_lr"], batch_size=4, verbose=0)).astype(np.uint8)
        rows.append({"step": step, "psnr": mean_psnr_y(sr8, data["val_hr"], scale),
                     "lpips": float(np.mean(evaluate.lpips_distances(lpips, sr8,
                                                                     data["val_hr"])))})
        print(f"step {step}: PSNR-Y {rows[-1]['psnr']:.3f} LPIPS {rows[-1]['lpips']:.4f}")
    write_rows(Path(run_dir) / "snapshots.csv", rows)
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("pack", help="training and validation faces as train.py sees them")
    a.add_argument("--data", required=True, help="the face folder ($FACES_HQ)")
    a.add_argument("-o", "--output", required=True)
    a.add_argument("--hr-size", type=int, default=256)
    a.add_argument("--scale", type=int, default=4)
    t = sub.add_parser("train", help="L1 fine-tuning through Keras on JAX")
    t.add_argument("--pack", required=True)
    t.add_argument("--init-from", required=True, help="a weights file with its card")
    t.add_argument("--steps", default="auto", help="optimizer steps, or auto (see --seconds)")
    t.add_argument("--seconds", type=float, default=300.0,
                   help="with --steps auto: the training time to fill")
    t.add_argument("--stop-after", type=int, default=None,
                   help="stop after this many of the --steps (the schedule stays that of "
                   "--steps): replays the first part of a longer run")
    t.add_argument("--crop", type=int, default=192)
    t.add_argument("--batch-size", type=int, default=16)
    t.add_argument("--lr", type=float, default=1e-4)
    t.add_argument("--ema", type=float, default=0.999)
    t.add_argument("--val-every", type=int, default=1000)
    t.add_argument("--snapshots", type=int, default=4,
                   help="float16 copies of the average kept for scoring LPIPS later")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("-o", "--out", required=True)
    s = sub.add_parser("score", help="LPIPS of a run's snapshots (needs TensorFlow)")
    s.add_argument("run_dir")
    s.add_argument("--init-from", required=True)
    s.add_argument("--pack", required=True)
    args = p.parse_args(argv)
    if args.command == "pack":
        pack(args.data, Path(args.output), args.hr_size, args.scale)
        return 0
    if args.command == "score":
        return score(Path(args.run_dir), args.init_from, args.pack)
    if args.steps != "auto":
        args.steps = int(args.steps)
    return train(args)


if __name__ == "__main__":
    sys.exit(main())
