"""What ``--face-enhance`` costs on a large photo: detection, alignment and paste-back against
the whole run.

The photo is made from images that ship with the dependencies, so the benchmark needs no
data: scikit-image's ``coffee`` enlarged to ``--megapixels`` of LR as the background, and
``--faces`` copies of the two built-in sample faces (``grace_hopper.jpg``,
``astronaut.png``) pasted at LR sizes from 24 to 80 pixels. It runs ``predict.py``'s path
(:func:`srgan.inference.upscale.upscale` with predict's defaults for the background, then
:meth:`srgan.faces.restore.FaceRestorer.restore`) and times each stage in the same process:

    python -m benchmarks.face_speed [--megapixels 1 --faces 5 --model srgan --face-model blind]

Printed: seconds per stage, each as a share of the total, and the share of detection,
alignment and paste-back together (the face pipeline's own overhead).
"""

from __future__ import annotations

import argparse
import time
from contextlib import contextmanager

import numpy as np


def photo(megapixels: float, faces: int, seed: int = 0) -> np.ndarray:
    """uint8 ``(H, W, 3)`` LR photo of about ``megapixels``, 4:3, with ``faces`` faces."""
    import skimage.data
    from PIL import Image

    from srgan import files
    from srgan.data.pipeline import sample_face_paths

    w = int(round((megapixels * 1e6 * 4 / 3) ** 0.5))
    h = int(round(w * 3 / 4))
    canvas = Image.fromarray(skimage.data.coffee()).resize((w, h), Image.Resampling.BICUBIC)
    sources = [Image.fromarray(files.read_image(p)) for p in sample_face_paths()]
    rng = np.random.default_rng(seed)
    sides = np.linspace(24, 80, faces).round().astype(int)
    for i, side in enumerate(sides):
        face = sources[i % len(sources)]
        s = min(face.size)
        square = face.crop(((face.size[0] - s) // 2, (face.size[1] - s) // 2,
                            (face.size[0] + s) // 2, (face.size[1] + s) // 2))
        x = int((i + 0.5) * w / faces - side / 2)
        y = int(rng.integers(0, h - side))
        canvas.paste(square.resize((side, side), Image.Resampling.LANCZOS), (x, y))
    return np.asarray(canvas)


class Stopwatch:
    """Seconds per named stage, summed over calls."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start

    def wrap(self, name: str, fn):
        def timed(*args, **kwargs):
            with self(name):
                return fn(*args, **kwargs)
        return timed


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--megapixels", type=float, default=1.0, help="LR photo size")
    p.add_argument("--faces", type=int, default=5)
    p.add_argument("--model", default="srgan", help="background model")
    p.add_argument("--face-model", default=None, help="default: predict.py's")
    args = p.parse_args()

    from srgan import pretrained
    from srgan.faces import align, paste, restore
    from srgan.inference.backends import make_runner
    from srgan.inference.faces import load_restorer
    from srgan.inference.upscale import upscale, upscale_kwargs
    from srgan.models.weights import load_generator
    from srgan.options import FaceOptions, PredictOptions

    lr = photo(args.megapixels, args.faces)
    runner = make_runner(load_generator(pretrained.resolve(args.model)), "keras")
    face_options = FaceOptions(face_enhance=True, **(
        {"face_model": args.face_model} if args.face_model else {}))
    restorer = load_restorer(face_options)
    # Warm up: trace the graphs and load the detector's networks outside the timings.
    upscale(runner, lr[:64, :64], 4)
    restorer.restore(lr[:160, :160], upscale(runner, lr[:160, :160], 4))

    clock = Stopwatch()
    # The stages, timed where restore() calls them (module attributes and the instance's).
    align.extract = clock.wrap("alignment", align.extract)
    paste.paste = clock.wrap("paste-back", paste.paste)
    restorer.find = clock.wrap("detection", restorer.find)
    restorer.model = clock.wrap("face model", restorer.model)
    with clock("background (--model)"):
        sr = upscale(runner, lr, 4, **upscale_kwargs(PredictOptions()))
    with clock("total of --face-enhance"):
        _, results = restorer.restore(lr, sr)
    total = clock.seconds["background (--model)"] + clock.seconds["total of --face-enhance"]
    print(f"LR photo {lr.shape[1]}x{lr.shape[0]} ({lr.shape[0] * lr.shape[1] / 1e6:.2f} MP), "
          f"x4; {restore.describe(results)}")
    for name, seconds in clock.seconds.items():
        print(f"{name:<26} {seconds:8.2f} s  {100 * seconds / total:5.1f}%")
    own = sum(clock.seconds.get(k, 0.0) for k in ("detection", "alignment", "paste-back"))
    print(f"{'whole run':<26} {total:8.2f} s")
    print(f"detection + alignment + paste-back: {own:.2f} s = {100 * own / total:.1f}% of "
          f"the whole run")


if __name__ == "__main__":
    main()
