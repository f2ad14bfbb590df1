"""``python -m benchmarks.export_quality --data DIR``: what each TFLite precision costs.

On the validation faces of ``DIR`` (the files a training run on ``DIR`` holds out, whole
faces at the model's ``hr_size``, degraded as in training), each TFLite export of a shipped
generator against the Keras model: mean PSNR-Y and LPIPS against the originals, and the
largest and mean difference from the Keras output, in grey levels.
"""

from __future__ import annotations

import argparse
import os
from typing import Optional, Sequence

import numpy as np


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.export_quality",
                                description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="folder of faces (validation split taken "
                   "as train.py takes it)")
    p.add_argument("--model", default="srgan", help="srgan, srresnet or a weights file")
    args = p.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from srgan import pretrained
    from srgan.config import Config, DataConfig
    from srgan.data import pipeline, transforms
    from srgan.evaluation import evaluate, metrics
    from srgan.inference.backends import TFLiteRunner, keras_runner
    from srgan.inference.export import to_tflite
    from srgan.inference.upscale import upscale
    from srgan.models.weights import load_generator
    from srgan.options import PRECISIONS
    from srgan.training.validation import split_paths

    generator = load_generator(pretrained.resolve(args.model))
    scale, hr_size = generator.scale, generator.hr_size
    paths = pipeline.find_images(args.data, allow_samples=False, log=lambda m: None)
    _, val = split_paths(paths, Config(data=DataConfig(data_dirs=(args.data,))),
                         log=lambda m: None)
    hrs = np.stack([evaluate.load_hr(path, scale, hr_size, False, DataConfig.max_pixels)
                    for path in val])
    lrs = np.stack([transforms.degrade(hr, scale).numpy().astype(np.uint8) for hr in hrs])
    runners = {"keras": keras_runner(generator.model)}
    for precision in PRECISIONS:
        runners[f"tflite {precision}"] = TFLiteRunner(
            to_tflite(generator.model, generator.config, hr_size // scale, precision))
    lpips = metrics.LPIPS()
    outs = {name: np.stack([upscale(run, lr, scale, tile_pad=0) for lr in lrs])
            for name, run in runners.items()}
    print(f"{len(val)} validation faces of {args.data}, {generator.path.name}, "
          f"{hr_size // scale} -> {hr_size}")
    print(f"{'backend':16s} {'PSNR-Y':>7s} {'LPIPS':>7s} {'max |d|':>8s} {'mean |d|':>9s}"
          "  (d: difference from Keras, grey levels)")
    for name, sr in outs.items():
        psnr = np.mean([metrics.psnr(s, h, crop_border=scale, y_only=True)
                        for s, h in zip(sr, hrs)])
        dist = evaluate.lpips_distances(lpips, sr, hrs).mean()
        d = np.abs(sr.astype(int) - outs["keras"].astype(int))
        print(f"{name:16s} {psnr:7.3f} {dist:7.4f} {d.max():8d} {d.mean():9.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
