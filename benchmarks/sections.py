"""The sections of the :mod:`benchmarks.bench` report; each times its cases and writes lines.

``report`` is a callable taking one line; ``args`` the parsed bench flags; ``sizes`` a
:class:`benchmarks.workloads.Sizes`; ``models`` maps variant -> ``(SRGAN, optimizers)``.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import numpy as np

from benchmarks import perf, workloads
from srgan.config import DEGRADATIONS
from srgan.inference.upscale import receptive_radius
from srgan.models.layers import with_conv_mode
from srgan.training import distribute


def _speedup(times: dict) -> str:
    if set(times) != {"subpixel", "nearest"}:
        return ""
    return f"  subpixel/nearest {times['nearest'] / times['subpixel']:.2f}x"


def machine(report, args) -> None:
    peak, flops = perf.conv_peak(args.steps + 2)
    report(f"machine: 3x3 conv 256->256 on 64x64 ({flops / 1e9:.2f} GFLOP) "
           f"{peak:.1f} GFLOP/s; 2048^2 matmul {perf.matmul_peak(args.steps + 2):.1f} GFLOP/s")


def steps(report, args, sizes, models: dict, phase: str, batches) -> dict:
    """Time ``phase`` steps for every variant and batch size; returns ``{(v, b): img/s}``.

    The conv peak is timed in the same round-robin, about as long as one small step, so
    the % of peak compares rates measured under the same load.
    """
    report(f"{phase} step {sizes.lr_size}->{sizes.hr_size}: images/s, GFLOP per image, "
           f"achieved GFLOP/s and % of the conv peak timed alongside")
    rates = {}
    for batch in batches:
        cases, flops = {}, {}
        for variant, (model, optimizers) in models.items():
            cases[variant], flops[variant] = workloads.train_step(
                model, optimizers, phase, sizes, batch, args.jit)
        cases["peak"], flops["peak"] = perf.conv_case(1 if args.quick else 16)
        times = perf.interleaved_times(cases, args.steps)
        peak = flops["peak"] / times.pop("peak") / 1e9
        cells = []
        for variant, t in times.items():
            rates[(variant, batch)] = batch / t
            cells.append(f"{variant} {batch / t:7.3f} img/s {flops[variant] / batch / 1e9:6.1f} "
                         f"GFLOP {flops[variant] / t / 1e9:5.1f} GFLOP/s "
                         f"{100 * flops[variant] / t / 1e9 / peak:3.0f}%")
        report(f"  batch {batch:2d}: " + " | ".join(cells) + _speedup(times)
               + f"  (peak {peak:.1f})")
    return rates


def upscaling(report, args, sizes, models: dict) -> None:
    """``upscale`` of one LR image (images/s) and of a ``mp_side`` image (output MP/s)."""
    for side, label in ((sizes.lr_size, "images/s"), (sizes.mp_side, "output MP/s")):
        cases = {v: workloads.upscale_case(m.generator, sizes.scale, side)
                 for v, (m, _) in models.items()}
        times = perf.interleaved_times({v: run for v, (run, _) in cases.items()}, args.steps)
        cells = []
        for variant, t in times.items():
            value = 1 / t if label == "images/s" else cases[variant][1] / t / 1e6
            flops = workloads.inference_flops(models[variant][0].generator, side)
            cells.append(f"{variant} {value:7.3f} ({flops / t / 1e9:5.1f} GFLOP/s)")
        report(f"inference {side}->{side * sizes.scale}, {label}: " + " | ".join(cells)
               + _speedup(times))


def backends(report, args, sizes) -> None:
    """Each inference backend against Keras float32, on the paper's generator (random
    weights, same cost): images/s at ``lr_size`` and output MP/s at ``mp_side``.

    Then the ceiling of any exact float32 path at ``lr_size``: the generator's multiply-adds
    (counted as plain convolutions) at the rate of a large matrix product timed in the same
    round-robin, against Keras float32's achieved rate.
    """
    from srgan.models.generators import build_generator

    config = workloads.model_config(sizes, "subpixel")
    generator = build_generator(config)
    n = 256 if args.quick else 2048
    matmul, matmul_flops = perf.matmul_case(n)  # the yardstick of the ceiling
    for side, label in ((sizes.lr_size, "images/s"), (sizes.mp_side, "output MP/s")):
        cases = workloads.backend_cases(generator, config, side, batched=label == "images/s")
        runs = {name: run for name, (run, _) in cases.items()}
        if label == "images/s":
            runs["matmul"] = matmul
        times = perf.interleaved_times(runs, args.steps)
        matmul_time = times.pop("matmul", None)
        rate = {name: cases[name][1] / t * (1 if label == "images/s" else
                                            (side * sizes.scale) ** 2 / 1e6)
                for name, t in times.items()}
        report(f"backends {side}->{side * sizes.scale}, {label} (x Keras float32): " + " | ".join(
            f"{name} {value:.3f} ({value / rate['keras']:.2f}x)" for name, value in rate.items()))
        if matmul_time is not None:
            flops = workloads.inference_flops(with_conv_mode(generator, "stock"), side)
            achieved = flops * rate["keras"] / 1e9
            matmul_rate = matmul_flops / matmul_time / 1e9
            report(f"  exact float32 ceiling: {flops / 1e9:.3g} GFLOP per image as plain "
                   f"convolutions; Keras float32 runs them at {achieved:.1f} GFLOP/s, "
                   f"{100 * achieved / matmul_rate:.0f}% of the {n}^2 matmul timed alongside "
                   f"({matmul_rate:.0f} GFLOP/s): an exact path doing these multiplies can be at "
                   f"most {matmul_rate / achieved:.2f}x faster")


def seams(report, sizes, generator) -> None:
    """Tiled against whole-image output, at the default pad and at the pad that makes the
    default cross-fade exact (twice the receptive radius)."""
    shape, tile = (2 * sizes.seam_tile + 7, sizes.seam_tile + 11), sizes.seam_tile
    radius = receptive_radius(generator)
    for pad in (sizes.tile_pad, int(np.ceil(2 * radius))):
        near, away, band = workloads.seam_errors(generator, sizes.scale, shape, tile, pad)
        where = (f"{near} within {band} LR px of a seam, {away} elsewhere" if band
                 else f"{max(near, away)} everywhere")
        report(f"tiling {shape[0]}x{shape[1]} LR in {tile}-px tiles, pad {pad} (receptive "
               f"radius {radius:g}): worst |tiled - whole| in grey levels: {where}")


def pipeline(report, args, sizes, consumption: float) -> None:
    """tf.data images/s on synthetic JPEGs against ``consumption`` (train images/s)."""
    batch = max(args.batch_size)
    with tempfile.TemporaryDirectory() as tmp:
        paths = workloads.write_jpegs(Path(tmp), sizes)
        for degradation in DEGRADATIONS:
            t = perf.best_time(workloads.pipeline_case(paths, sizes, batch, degradation),
                               args.steps, 2)
            rate = batch / t
            report(f"tf.data, {sizes.jpeg_size[0]}x{sizes.jpeg_size[1]} JPEGs -> decode, "
                   f"crop, resize, {degradation} LR, flip, batch {batch}: {rate:.1f} "
                   f"images/s, {rate / consumption:.0f}x the fastest GAN step above "
                   f"({consumption:.3f} images/s)")


def profile(report, args, sizes, variant: str, model, batch: int, step_time: float) -> None:
    """Time of each part of the GAN step, against the whole step's ``step_time``."""
    times = perf.interleaved_times(workloads.component_cases(model, sizes, batch),
                                   args.steps)
    report(f"profile of the {variant} GAN step, batch {batch}, by part (whole step "
           f"{step_time:.2f} s; a step runs D forward+backward twice, on HR and on SR):")
    for name, t in times.items():
        report(f"  {name:34s} {t:7.3f} s  {100 * t / step_time:4.0f}%")


def flags(report, args, sizes, batch: int) -> None:
    """The subpixel GAN step with and without ``--jit`` and ``--mixed-precision``."""
    cases = {}
    for jit, mixed in ((False, False), (True, False), (False, True)):
        policy = distribute.policy_name(mixed)
        model, optimizers = workloads.build_srgan(sizes, "subpixel", policy)
        cases[f"jit={jit} {policy}"] = workloads.train_step(
            model, optimizers, "gan", sizes, batch, jit)[0]
    times = perf.interleaved_times(cases, args.steps)
    base = next(iter(times.values()))
    report(f"flags, subpixel GAN step, batch {batch}: images/s (speed vs neither)")
    for name, t in times.items():
        report(f"  {name:28s} {batch / t:7.3f}  {base / t:.2f}x")


def ablation(report, args, sizes, batch: int) -> None:
    """What the speed choices gain: the GAN step as shipped, with Keras's stock convolutions
    instead of :mod:`srgan.models.layers`, and with the paper's global discriminator head; and
    the original Keras SRGAN design as it was written (``nearest``, stock convolutions)."""
    global_head = dataclasses.replace(sizes, model={**sizes.model, "disc_head": "global"})
    choices = {"as shipped": ("subpixel", sizes, False),
               "stock Keras Conv2D (no srgan.models.layers)": ("subpixel", sizes, True),
               "global discriminator head (the paper's)": ("subpixel", global_head, False),
               "nearest with stock Conv2D (original Keras SRGAN design)": ("nearest", sizes, True)}
    cases = {}
    for name, (variant, case_sizes, stock) in choices.items():
        model, optimizers = workloads.build_srgan(case_sizes, variant,
                                                  conv_mode="stock" if stock else "fast")
        cases[name] = workloads.train_step(model, optimizers, "gan", case_sizes, batch,
                                           args.jit)[0]
    times = perf.interleaved_times(cases, args.steps)
    shipped = times["as shipped"]
    report(f"what each choice gains, GAN step batch {batch}: images/s (as shipped / this)")
    for name, t in times.items():
        report(f"  {name:48s} {batch / t:7.3f}  {t / shipped:.2f}x")
