"""Checks srgan.evaluation.metrics.LPIPS against the published LPIPS (VGG, v0.1) example.

Usage, from the repository root: python -m scripts.check_lpips [DIR]

DIR holds ex_ref.png, ex_p0.png and ex_p1.png from richzhang/PerceptualSimilarity ``imgs/``
(default: ``tests/data/lpips``, where tests/test_metrics.py checks the same values). The
reference implementation gives 0.569 for (ref, p0) and 0.422 for (ref, p1); the script exits 1 when
either value is more than 0.002 away.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from srgan.evaluation.metrics import LPIPS

ROOT = Path(__file__).resolve().parents[1]

EXPECTED = {"ex_p0.png": 0.569, "ex_p1.png": 0.422}
TOLERANCE = 0.002


def load(path: Path) -> np.ndarray:
    """Reads an image as a ``(1, H, W, 3)`` float32 RGB batch in ``[-1, 1]``."""
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"), np.float32)[None] / 127.5 - 1.0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", nargs="?", type=Path,
                        default=ROOT / "tests" / "data" / "lpips")
    args = parser.parse_args(argv)
    lpips = LPIPS()
    ref = load(args.dir / "ex_ref.png")
    ok = True
    for name, expected in EXPECTED.items():
        value = float(lpips(ref, load(args.dir / name))[0])
        good = abs(value - expected) <= TOLERANCE
        ok &= good
        print(f"LPIPS(ex_ref, {name[:-4]}) = {value:.4f}  expected {expected:.3f} "
              f"+- {TOLERANCE}  {'PASS' if good else 'FAIL'}")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
