"""Measures VGG16 block5_conv3 feature magnitudes, to scale the vgg16-offline content loss.

Usage, from the repository root: python -m scripts.measure_feature_scale FACES_DIR [--count 32] [--size 256]

The SRGAN content loss is the MSE of VGG19 block5_conv4 features of caffe inputs ([0, 255]
minus the mean, BGR), scaled by 1/12.75. The offline backbone is the torchvision VGG16 with
torch inputs (``((x + 1) / 2 - mean) / std``), whose input magnitude is about
``255 * mean(std)`` ~ 57.4 times smaller. Prints, on the first ``count`` images of
FACES_DIR (centre square crop, bicubic resize to ``size``), the RMS of:

(a) block5_conv3 features under torch preprocessing;
(b) the same features of inputs multiplied by ``255 * mean(std)`` (caffe magnitude): the
    ratio (b)/(a) shows how close to positively homogeneous (linear in scale) the net is;
(c) the feature difference between HR and its bicubic x4 down-up copy (torch inputs),
    and (c') the same difference at caffe magnitude.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from srgan.models.vgg import TORCH_STD, build_vgg16, torch_preprocess

SUFFIXES = (".jpg", ".jpeg", ".png")


def load_face(path: Path, size: int) -> np.ndarray:
    """Centre square crop, bicubic resize: ``(size, size, 3)`` uint8 RGB."""
    with Image.open(path) as img:
        img = img.convert("RGB")
        side = min(img.size)
        left, top = (img.width - side) // 2, (img.height - side) // 2
        img = img.crop((left, top, left + side, top + side))
        return np.asarray(img.resize((size, size), Image.BICUBIC))


def down_up(hr: np.ndarray, scale: int = 4) -> np.ndarray:
    """Bicubic (antialiased, PIL) downscale by ``scale`` then bicubic upscale back."""
    img = Image.fromarray(hr)
    small = img.resize((img.width // scale, img.height // scale), Image.BICUBIC)
    return np.asarray(small.resize(img.size, Image.BICUBIC))


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("faces_dir", type=Path)
    parser.add_argument("--count", type=int, default=32)
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args(argv)
    files = sorted(p for p in args.faces_dir.iterdir() if p.suffix.lower() in SUFFIXES)
    files = files[:args.count]
    if not files:
        print(f"no images in {args.faces_dir}", file=sys.stderr)
        return 1
    hr = np.stack([load_face(p, args.size) for p in files])
    bic = np.stack([down_up(img) for img in hr])
    to_unit = lambda imgs: imgs.astype(np.float32) / 127.5 - 1.0  # noqa: E731
    net = build_vgg16(["block5_conv3"], preprocess=None)
    gain = 255.0 * float(np.mean(TORCH_STD))

    def features(imgs: np.ndarray, k: float = 1.0) -> np.ndarray:
        x = np.asarray(torch_preprocess(to_unit(imgs))) * k
        return np.concatenate([np.asarray(net(x[i:i + 4])) for i in range(0, len(x), 4)])

    f_hr, f_bic = features(hr), features(bic)
    f_hr_caffe, f_bic_caffe = features(hr, gain), features(bic, gain)
    a, b = rms(f_hr), rms(f_hr_caffe)
    c, c_caffe = rms(f_hr - f_bic), rms(f_hr_caffe - f_bic_caffe)
    print(f"images: {len(files)} from {args.faces_dir}, {args.size}x{args.size}")
    print(f"input gain 255*mean(std) = {gain:.2f}")
    print(f"(a)  RMS block5_conv3, torch inputs           = {a:.4f}")
    print(f"(b)  RMS block5_conv3, caffe-magnitude inputs = {b:.4f}")
    print(f"     (b)/(a) = {b / a:.2f}  (gain {gain:.2f} if the net were homogeneous)")
    print(f"(c)  RMS HR - bicubic x4 difference, torch    = {c:.4f}")
    print(f"(c') RMS HR - bicubic x4 difference, caffe    = {c_caffe:.4f}  "
          f"((c')/(c) = {c_caffe / c:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
