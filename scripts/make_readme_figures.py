"""Draws the README's pictures from the shipped models and the training runs' logs.

Usage:
    python -m scripts.make_readme_figures [--curves LABEL:RUN_DIR:OFFSET ...] [--out docs]

* ``sample_faces.png``: the two built-in sample faces (public-domain portraits shipped by
  matplotlib and scikit-image, in no training data), LR | bicubic | SRResNet | SRGAN |
  original, at 64 -> 256.
* ``real_world.png``: the same faces from clean LR through SRGAN, and from degraded LR
  (the scene benchmark's mild blur, noise and JPEG 45-75) through bicubic, the blind model
  and ``--face-enhance`` with ``--face-model`` (``--face-model`` here, default
  :data:`srgan.options.DEFAULT_FACE_MODEL`), against the original.
* ``learning_curve.png`` (with ``--curves``): validation PSNR-Y and LPIPS against the
  generator step, from the ``validation.csv`` of each run (SRResNet stages, then the GAN
  run), each shifted by the step of the weights it started from, with bicubic's level.
"""

import argparse
import csv
import sys
from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from srgan import files, pretrained
from srgan.data import pipeline, transforms
from srgan.evaluation import figures, metrics
from srgan.inference.upscale import interpolate, upscale
from srgan.models.weights import load_generator
from srgan.pixels import to_unit_range

ROOT = Path(__file__).resolve().parents[1]


def sample_faces(out: Path) -> None:
    models = {name: load_generator(pretrained.resolve(name)).model
              for name in ("srresnet", "srgan")}
    rows = []
    for path in pipeline.sample_face_paths():
        hr = transforms.prepare_hr(files.read_image(path), 256).numpy().astype(np.uint8)
        lr = transforms.degrade(hr, 4).numpy().astype(np.uint8)
        outs = [interpolate(lr, 4)] + [upscale(g, lr, 4)
                                       for g in models.values()]
        psnr = [metrics.psnr(o, hr, crop_border=4, y_only=True) for o in outs]
        label = f"{path.stem}\nPSNR-Y " + " / ".join(f"{p:.2f}" for p in psnr)
        rows.append((label, [lr, *outs, hr]))
    fig = figures.contact_sheet_figure(
        rows, titles=("LR 64x64", "bicubic", "SRResNet", "SRGAN", "original 256x256"))
    _save_rgb_png(fig, out / "sample_faces.png")


def _save_rgb_png(fig, path: Path) -> None:
    """Lossless, but RGB and optimised: about 15% smaller than matplotlib's RGBA PNG."""
    buf = BytesIO()
    Image.open(BytesIO(figures.png_bytes(fig))).convert("RGB").save(buf, "PNG", optimize=True)
    files.atomic_write_bytes(path, buf.getvalue())


def real_world(out: Path, face_model: str) -> None:
    from benchmarks.scenes.compose import SceneConfig, degrade_lr
    from srgan.inference.faces import load_restorer
    from srgan.options import FaceOptions

    srgan, blind = (load_generator(pretrained.resolve(n)).model for n in ("srgan", "blind"))
    restorer = load_restorer(FaceOptions(face_enhance=True, face_model=face_model))
    lpips, rows = metrics.LPIPS(), []
    for i, path in enumerate(pipeline.sample_face_paths()):
        hr = transforms.prepare_hr(files.read_image(path), 256).numpy().astype(np.uint8)
        lr = transforms.degrade(hr, 4).numpy().astype(np.uint8)
        bad, _ = degrade_lr(lr, np.random.default_rng(i), SceneConfig())
        background = upscale(blind, bad, 4)
        restored, results = restorer.restore(bad, background)
        outs = [upscale(srgan, lr, 4), interpolate(bad, 4), background, restored]
        scores = lpips(to_unit_range(np.stack(outs)), to_unit_range(np.stack([hr] * len(outs))))
        label = f"{path.stem}\nLPIPS " + " / ".join(f"{v:.3f}" for v in scores.numpy())
        rows.append((label, [lr, outs[0], bad, *outs[1:], hr]))
    fig = figures.contact_sheet_figure(rows, titles=(
        "clean LR", "SRGAN", "degraded LR", "bicubic", "blind", "--face-enhance",
        "original"))
    _save_rgb_png(fig, out / "real_world.png")


def _read(run: Path) -> dict:
    with open(run / "validation.csv") as f:
        rows = list(csv.DictReader(f))
    return {k: np.array([float(r[k]) for r in rows]) for k in rows[0] if k != "phase"}


def learning_curve(runs: list[tuple[str, Path, int]], out: Path) -> None:
    """``runs``: ``(label, run folder, step offset)``, each run's steps shifted by its offset
    (the global step of the weights it started from)."""
    fig = Figure(figsize=(11, 4.2), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    records = [(label, _read(run), offset) for label, run, offset in runs]
    for ax, key, label in zip(fig.subplots(1, 2), ("psnr", "lpips"),
                              ("validation PSNR-Y (dB), higher is better",
                               "validation LPIPS, lower is better")):
        for (name, record, offset), marker in zip(records, "osD^v"):
            ax.plot(offset + record["step"], record[key], marker + "-", label=name)
        ax.axhline(records[0][1][f"bicubic_{key}"][0], color="k", ls="--", lw=1,
                   label="bicubic")
        ax.set(xlabel="generator step", title=label)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    files.atomic_write_bytes(out / "learning_curve.png", figures.png_bytes(fig))


def _curve_arg(text: str) -> tuple[str, Path, int]:
    label, run, offset = text.split(":")
    return label, Path(run), int(offset)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--curves", nargs="+", type=_curve_arg, metavar="LABEL:RUN_DIR:OFFSET",
                   help="runs to plot: a label, the run's checkpoint folder and the step "
                   "its starting weights had")
    p.add_argument("--out", default=str(ROOT / "docs"))
    p.add_argument("--face-model", default=None, help="the face model of real_world.png "
                   "(default: --face-enhance's)")
    args = p.parse_args(argv)
    out = files.check_writable_dir(Path(args.out))
    sample_faces(out)
    from srgan.options import DEFAULT_FACE_MODEL

    real_world(out, args.face_model or DEFAULT_FACE_MODEL)
    if args.curves:
        learning_curve(args.curves, out)
    print(f"wrote figures to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
