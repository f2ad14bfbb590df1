"""``python -m benchmarks.bench``: how fast training and inference run on this machine.

Prints, and writes to ``--output`` (default ``results/bench.txt``):

* the machine's conv and matmul rates (a large 3x3 conv, a 2048^2 matmul);
* GAN and SRResNet (pre-training) train steps: images/s per batch size, FLOPs per image
  (counted on the traced step, :mod:`benchmarks.perf`), achieved GFLOP/s and % of the conv peak;
* inference (``srgan.inference.upscale.upscale``): images/s at 64 -> 256 and output megapixels/s
  on a 256^2 input; in a fresh process, a tiled 2048^2 -> 8192^2 upscale with its peak
  RSS and time per output megapixel against the 256^2 input's;
* inference backends (``srgan.inference.backends``): Keras, Keras with XLA, ONNX Runtime,
  TFLite with XNNPACK at float32, float16 and int8 weights, and Keras and ONNX Runtime on
  8 images at once, each as a ratio to Keras float32 (``--only-backends`` runs this section alone);
* the tf.data pipeline (decode, crop, resize, LR, flip) against what a train step consumes;
* a profile of the GAN step by part; ``--jit`` and ``--mixed-precision`` against neither;
  the step with Keras's stock convolutions, with the paper's global discriminator head,
  and the original Keras SRGAN design as written (``nearest``, stock convolutions);
* the peak RSS of each case, each in a fresh process.

Each case runs for the paper's sub-pixel generator and the original Keras SRGAN code's ``nearest`` variant,
interleaved step by step in one process, with the ratio between them. A time is the best
of ``--steps`` runs after a warm-up: the run least disturbed by other processes. The
perceptual network is VGG19 to ``block5_conv4`` with random weights (the paper's cost).
``--quick`` runs it all at toy sizes: a smoke test, not a measurement.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional, Sequence

from srgan.cli import add_deprecated_alias

VARIANTS = ("subpixel", "nearest")


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench",
                                description="Speed and memory of SRGAN training and "
                                "inference on this machine (see the module docstring).")
    p.add_argument("--quick", action="store_true", help="toy sizes: a smoke run")
    p.add_argument("-o", "--output", default="results/bench.txt",
                   help="also write the report to this file (default: results/bench.txt)")
    p.add_argument("--batch-size", type=int, nargs="+", default=[1, 16],
                   help="GAN step batch sizes (default: 1 16)")
    p.add_argument("--pretrain-batch-size", type=int, nargs="+", default=[16],
                   help="SRResNet step batch sizes (default: 16)")
    p.add_argument("--steps", type=int, default=3, help="timed runs per case (default: 3)")
    p.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    p.add_argument("--large", type=int, default=None,
                   help="LR side of the tiled case (default: 2048; 0 skips it)")
    p.add_argument("--tile", type=int, default=None, help="its LR tile side (default: 384)")
    p.add_argument("--jit", action="store_true", help="XLA-compile the train steps")
    p.add_argument("--mixed-precision", action="store_true",
                   help="mixed_float16 on GPU, mixed_bfloat16 on CPU")
    for name, what in (("flags", "the --jit / --mixed-precision comparison"),
                       ("ablation", "the comparison with stock convs and a global D head"),
                       ("profile", "the GAN step profile by part"),
                       ("memory", "the fresh-process runs: peak RSS and the tiled case")):
        p.add_argument(f"--no-{name}", dest=name, action="store_false", help=f"skip {what}")
    p.add_argument("--only-backends", action="store_true",
                   help="run only the inference backend comparison")
    p.add_argument("--child", help=argparse.SUPPRESS)  # internal: one case, JSON out
    # The names before the bench used train.py's: still accepted, with a warning.
    add_deprecated_alias(p, "--out", "-o/--output", dest="output")
    add_deprecated_alias(p, "--batch", "--batch-size", dest="batch_size", type=int, nargs="+")
    add_deprecated_alias(p, "--pretrain-batch", "--pretrain-batch-size",
                         dest="pretrain_batch_size", type=int, nargs="+")
    return p.parse_args(argv)


def sizes_for(args):
    from benchmarks import workloads

    sizes = workloads.QUICK if args.quick else workloads.Sizes()
    changes = {k: v for k, v in (("large_side", args.large), ("tile", args.tile))
               if v is not None}
    return dataclasses.replace(sizes, **changes)


def run_child(case: str, args) -> dict:
    """Run one case (``kind:variant:batch``) in this process; figures and peak RSS (MiB)."""
    from benchmarks import perf, workloads
    from srgan.training import distribute

    sizes = sizes_for(args)
    kind, variant, batch = (case.split(":") + ["", ""])[:3]
    result = {}
    if kind in ("gan", "pretrain"):
        model, optimizers = workloads.build_srgan(
            sizes, variant, distribute.policy_name(args.mixed_precision))
        workloads.train_step(model, optimizers, kind, sizes, int(batch), args.jit)[0]()
    elif kind in ("infer", "tiled"):
        generator = workloads.build_srgan(sizes, variant)[0].generator
        runs = [(sizes.lr_size, None)] if kind == "infer" else [
            (sizes.mp_side, None), (sizes.large_side, sizes.tile)]
        for side, tile in runs:
            run, pixels = workloads.upscale_case(generator, sizes.scale, side, tile,
                                                 sizes.tile_pad)
            # The large case runs once: its first tiles warm up the traced graph.
            t = perf.best_time(run, 1, warmup=0) if tile else perf.best_time(run, 2)
            result[f"s_per_mp_{side}"] = t / (pixels / 1e6)
    elif kind == "data":
        with tempfile.TemporaryDirectory() as tmp:
            paths = workloads.write_jpegs(Path(tmp), sizes)
            workloads.pipeline_case(paths, sizes, int(batch))()
    elif kind != "base":
        raise ValueError(f"unknown bench case {case!r}")
    return {**result, "peak_rss_mb": perf.peak_rss_mb()}


def in_child(case: str, argv: Sequence[str]) -> dict:
    """:func:`run_child` in a fresh Python process; returns its JSON result."""
    # The repository root on the path, so `-m benchmarks.bench` resolves from any folder.
    root = str(Path(__file__).resolve().parents[1])
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": path}
    proc = subprocess.run([sys.executable, "-m", "benchmarks.bench", *argv, "--child", case],
                          capture_output=True, text=True, env=env, check=False)
    if proc.returncode:
        raise RuntimeError(f"bench case {case} failed: {proc.stderr.strip()[-800:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def memory(report, args, sizes, argv: Sequence[str]) -> None:
    """Peak RSS of each case in a fresh process, then the tiled large-image case."""
    report("peak RSS, each case alone in a fresh process (MiB):")
    children = [("base", "Python + TensorFlow, nothing run")]
    for v in args.variants:
        children += [(f"gan:{v}:{b}", f"GAN step, {v}, batch {b}") for b in args.batch_size]
        children += [(f"pretrain:{v}:{b}", f"pretrain step, {v}, batch {b}")
                     for b in args.pretrain_batch_size]
        children += [(f"infer:{v}", f"inference {v} {sizes.lr_size}->{sizes.hr_size}")]
    children += [(f"data::{max(args.batch_size)}", f"tf.data, batch {max(args.batch_size)}")]
    for case, label in children:
        report(f"  {label:40s} {in_child(case, argv)['peak_rss_mb']:7.0f}")
    if not sizes.large_side:
        return
    variant, side = args.variants[0], sizes.large_side
    out = side * sizes.scale
    r = in_child(f"tiled:{variant}", argv)
    small, large = r[f"s_per_mp_{sizes.mp_side}"], r[f"s_per_mp_{side}"]
    report(f"tiled inference, {variant}, {side}^2 -> {out}^2 (tile {sizes.tile}, pad "
           f"{sizes.tile_pad}), fresh process: {1 / large:.3f} output MP/s "
           f"({out * out / 1e6 * large:.0f} s), peak RSS {r['peak_rss_mb']:.0f} MiB; time "
           f"per output MP {100 * (large / small - 1):+.0f}% vs the untiled "
           f"{sizes.mp_side}^2 input ({1 / small:.3f} MP/s) in the same process")


def header(report, args, sizes) -> None:
    import platform

    import keras
    import tensorflow as tf

    gpus = [d.name for d in tf.config.list_physical_devices("GPU")]
    report(f"benchmarks.bench {time.strftime('%Y-%m-%d %H:%M')}: {os.cpu_count()} CPU cores "
           f"({platform.machine()}), {', '.join(gpus) or 'no GPU'}; TensorFlow "
           f"{tf.__version__}, Keras {keras.__version__}")
    report(f"{'QUICK: toy sizes, a smoke run, not a measurement; ' if args.quick else ''}"
           f"LR {sizes.lr_size} -> HR {sizes.hr_size}, model {sizes.model or 'as in the paper'}"
           f", perceptual VGG19 to {sizes.vgg_layer} (random weights, same cost); "
           f"jit={args.jit}, mixed_precision={args.mixed_precision}; best of {args.steps}")


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if args.child:
        print(json.dumps(run_child(args.child, args)))
        return 0
    from benchmarks import sections, workloads
    from srgan.training import distribute

    sizes, lines = sizes_for(args), []

    def report(line: str = "") -> None:
        print(line, flush=True)
        lines.append(line)

    header(report, args, sizes)
    if args.only_backends:
        sections.backends(report, args, sizes)
        return _write(lines, args.output)
    sections.machine(report, args)
    policy = distribute.policy_name(args.mixed_precision)
    models = {v: workloads.build_srgan(sizes, v, policy) for v in args.variants}
    gan = sections.steps(report, args, sizes, models, "gan", args.batch_size)
    sections.steps(report, args, sizes, models, "pretrain", args.pretrain_batch_size)
    sections.upscaling(report, args, sizes, models)
    sections.backends(report, args, sizes)
    sections.seams(report, sizes, models[args.variants[0]][0].generator)
    sections.pipeline(report, args, sizes, max(gan.values()))
    first, batch = args.variants[0], min(args.batch_size)
    if args.profile:
        sections.profile(report, args, sizes, first, models[first][0], batch,
                         batch / gan[(first, batch)])
    del models
    if args.flags:
        sections.flags(report, args, sizes, batch)
    if args.ablation:
        sections.ablation(report, args, sizes, batch)
    if args.memory:
        memory(report, args, sizes, [a for a in argv if a])
    return _write(lines, args.output)


def _write(lines: list[str], output: str) -> int:
    """Write the report to ``output``; returns the exit code 0."""
    from srgan.files import atomic_write_bytes

    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out, ("\n".join(lines) + "\n").encode())
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
