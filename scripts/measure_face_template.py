"""Re-measure the face template of :mod:`srgan.faces.align` from a folder of training faces.

Each training face is prepared as ``train.py`` prepares whole faces (centre square,
antialiased bicubic to ``--hr-size``), the detector of :mod:`srgan.faces.detect` finds its
five landmarks of the largest face on that HR image, and they are divided by the scale to
give LR coordinates of the aligned ``hr_size / scale`` crop. The mean over the faces is the
template; the script prints it ready to paste, with the spread.

    python -m scripts.measure_face_template --data FACES_HQ [--hr-size 256 --scale 4]

Validation faces are left out exactly as ``train.py`` holds them out of its first folder.
"""

from __future__ import annotations

import argparse

import numpy as np


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="folder of aligned training faces")
    p.add_argument("--hr-size", type=int, default=256)
    p.add_argument("--scale", type=int, default=4)
    p.add_argument("--min-score", type=float, default=0.8,
                   help="MTCNN scores tightly cropped faces lower: 0.9-1.0 here")
    args = p.parse_args()

    from srgan import files
    from srgan.config import Config, DataConfig
    from srgan.data import transforms
    from srgan.faces.detect import DetectOptions, FaceDetector
    from srgan.training.validation import split_paths

    cfg = Config(data=DataConfig(data_dirs=(args.data,), hr_size=args.hr_size))
    train, _ = split_paths(files.list_images(args.data), cfg)
    detect = FaceDetector(DetectOptions(upsample_to=0, min_size=args.hr_size / 8))
    found = []
    for path in train:
        hr = transforms.prepare_hr(files.read_image(path), args.hr_size).numpy().astype(np.uint8)
        faces = [f for f in detect(hr) if f.score >= args.min_score]
        if faces:  # the largest: an aligned training face fills the frame
            found.append(max(faces, key=lambda f: f.size).landmarks / args.scale)
    marks = np.stack(found)
    mean, std = marks.mean(0), marks.std(0)
    print(f"{len(found)} of {len(train)} training faces with a face scoring "
          f">= {args.min_score}; template at {args.hr_size // args.scale} px (x, y):")
    print("TEMPLATE = np.array([" + ",\n                     ".join(
        f"[{x:.2f}, {y:.2f}]" for x, y in mean) + "])")
    print("standard deviation per landmark (x, y): " + ", ".join(
        f"({x:.2f}, {y:.2f})" for x, y in std))


if __name__ == "__main__":
    main()
