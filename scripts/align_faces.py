"""Align a folder of face photos to the face model's canonical crop, for training it.

Each photo's largest face is found with its five landmarks (:mod:`srgan.faces.detect`, on a
copy at most ``--detect-size`` pixels wide), fitted onto the template
(:mod:`srgan.faces.align`) scaled to ``--hr-size`` and warped there from the full-resolution
photo (antialiased when shrinking), so each output is a whole HR face framed exactly as
``predict.py --face-enhance`` frames faces at inference. Each training face is written
``--jitter`` times, each under a small random similarity (rotation, scale, shift of the
size of the detector's landmark noise), so the model learns to forgive it. With
``--zoom Z`` each training copy is also enlarged about the crop's centre by a factor drawn
from ``[1, Z]``: the crop then shows the face larger than the template, cut at its edges,
as ``--face-enhance`` shows a face larger than the crop (restored at its own scale).

The validation faces that ``train.py`` would hold out of ``--data`` go to ``OUT/val`` (one
each, no jitter), the rest to ``OUT/train``:

    python -m scripts.align_faces --data FACES_HQ -o ALIGNED
    python train.py --data ALIGNED/train --val-data ALIGNED/val --degradation gfpgan ...
"""

from __future__ import annotations

import argparse
import math

import numpy as np


def _jitter(rng, size: int, degrees: float, scale: float, shift: float,
            zoom: float = 1.0) -> np.ndarray:
    """A random similarity about the centre of a ``size`` square: ``(3, 3)``; its scale is
    ``1 +- scale`` times a zoom drawn from ``[1, zoom]``."""
    a = math.radians(rng.uniform(-degrees, degrees))
    s = rng.uniform(1 - scale, 1 + scale) * (rng.uniform(1.0, zoom) if zoom > 1 else 1.0)
    c = size / 2
    m = np.array([[s * math.cos(a), -s * math.sin(a), 0], [s * math.sin(a), s * math.cos(a), 0],
                  [0, 0, 1]])
    m[:2, 2] = c - m[:2, :2] @ [c, c] + rng.uniform(-shift, shift, 2)
    return m


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="folder of face photos")
    p.add_argument("-o", "--output", required=True, help="folder for train/ and val/")
    p.add_argument("--hr-size", type=int, default=256, help="side of the aligned HR crop")
    p.add_argument("--scale", type=int, default=4, help="the face model's scale")
    p.add_argument("--jitter", type=int, default=8, help="crops per training face")
    p.add_argument("--zoom", type=float, default=1.0, help="enlarge each training copy by "
                   "a factor drawn from [1, ZOOM] (faces larger than the crop)")
    p.add_argument("--detect-size", type=int, default=512)
    p.add_argument("--min-score", type=float, default=0.8)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    if args.zoom < 1:
        p.error(f"--zoom must be at least 1, got {args.zoom}")

    from pathlib import Path

    from PIL import Image

    from srgan import files
    from srgan.config import Config, DataConfig
    from srgan.faces import align
    from srgan.faces.detect import DetectOptions, FaceDetector
    from srgan.training.validation import split_paths

    cfg = Config(data=DataConfig(data_dirs=(args.data,), hr_size=args.hr_size))
    train, val = split_paths(files.list_images(args.data), cfg)
    detect = FaceDetector(DetectOptions(upsample_to=0, min_size=args.detect_size / 16))
    target = align.template(args.hr_size // args.scale) * args.scale
    rng = np.random.default_rng(args.seed)
    written = skipped = 0
    for split, paths in (("train", train), ("val", val)):
        out_dir = files.check_writable_dir(Path(args.output) / split)
        for path in paths:
            image = files.read_image(path)
            k = min(1.0, args.detect_size / max(image.shape[:2]))
            small = image if k == 1 else np.asarray(Image.fromarray(image).resize(
                (round(image.shape[1] * k), round(image.shape[0] * k)), Image.LANCZOS))
            faces = [f for f in detect(small) if f.score >= args.min_score]
            if not faces:
                skipped += 1
                print(f"{path}: no face scoring >= {args.min_score}; skipped")
                continue
            landmarks = max(faces, key=lambda f: f.size).landmarks / k
            m = align.similarity(landmarks, target)
            copies = args.jitter if split == "train" else 1
            for j in range(copies):
                mj = m if copies == 1 else (_jitter(
                    rng, args.hr_size, 4.0, 0.05, 1.0 * args.scale, args.zoom) @ np.vstack(
                        [m, [0, 0, 1]]))[:2]
                crop = align.extract(image, mj, args.hr_size)
                files.atomic_save_image(out_dir / f"{path.stem}_{j}.png", crop)
                written += 1
    print(f"wrote {written} aligned {args.hr_size} px faces to {args.output} "
          f"({len(train)} training and {len(val)} validation photos; {skipped} skipped)")


if __name__ == "__main__":
    main()
