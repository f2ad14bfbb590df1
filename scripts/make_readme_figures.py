"""Draws the README's pictures from the shipped models and the training runs' logs.

Usage:
    python -m scripts.make_readme_figures [--curves LABEL:RUN_DIR:OFFSET ...] [--out docs]

* ``sample_faces.png``: the two built-in sample faces (public-domain portraits shipped by
  matplotlib and scikit-image, in no training data), LR | bicubic | SRResNet | SRGAN |
  original, at 64 -> 256.
* ``scene_faces.png``: the largest face of a scene composed from the two sample faces,
  from clean and from degraded LR (blur, noise, JPEG 45-75), through bicubic, SRGAN and
  ``--face-enhance`` with ``--face-model`` (default :data:`srgan.options.DEFAULT_FACE_MODEL`),
  against the original: the scene benchmark's contact sheets.
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
    # Lossless, but RGB and optimised: about 15% smaller than matplotlib's RGBA PNG.
    _write_png(Image.open(BytesIO(figures.png_bytes(fig))).convert("RGB"),
               out / "sample_faces.png")


def _write_png(image: Image.Image, path: Path) -> None:
    """``image`` as an optimised PNG at ``path``, written atomically."""
    buf = BytesIO()
    image.save(buf, "PNG", optimize=True)
    files.atomic_write_bytes(path, buf.getvalue())


def scene_faces(out: Path, face_model: str) -> None:
    """The scene benchmark (``python -m benchmarks.scenes``) on one scene made of licence-free
    images: the two sample faces, each cut square around the face MTCNN finds (1.5 times
    its box), over scikit-image's ``coffee`` photo (CC0). Of its clean and its degraded
    contact sheet, the row of the largest face, one above the other."""
    import tempfile

    import skimage.data
    from PIL import ImageDraw

    from benchmarks.scenes.__main__ import main as scenes
    from srgan.faces.detect import FaceDetector

    detector = FaceDetector()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "faces").mkdir()
        (tmp / "backgrounds").mkdir()
        Image.fromarray(skimage.data.coffee()).save(tmp / "backgrounds" / "coffee.png")
        for path in pipeline.sample_face_paths():
            image = files.read_image(path)
            x0, y0, x1, y1 = max(detector(image), key=lambda f: f.size).box
            cx, cy, half = (x0 + x1) / 2, (y0 + y1) / 2, 0.75 * max(x1 - x0, y1 - y0)
            box = [round(max(0, cx - half)), round(max(0, cy - half)),
                   round(min(image.shape[1], cx + half)), round(min(image.shape[0], cy + half))]
            Image.fromarray(image).crop(box).save(tmp / "faces" / f"{path.stem}.png")
        if scenes(["--faces", str(tmp / "faces"), "--faces-split", "all", "--backgrounds",
                   str(tmp / "backgrounds"), "--scenes", "1", "--model", "srgan",
                   "--method", "face-enhance", "--face-model", face_model,
                   "--sheet-faces", "3", "-o", str(tmp / "out")]) != 0:
            raise RuntimeError("the scene benchmark failed")
        sheets = {kind: Image.open(tmp / "out" / f"contact_sheet_{kind}.png").convert("RGB")
                  for kind in ("clean", "degraded")}
    width = sheets["clean"].width

    def rows(sheet: Image.Image) -> list[tuple[int, int]]:
        """``(top, bottom)`` of each band of the sheet that is not all white."""
        inked = np.asarray(sheet).min(axis=(1, 2)) < 250
        edges = np.flatnonzero(np.diff(np.r_[0, inked.astype(int), 0]))
        return list(zip(edges[::2], edges[1::2]))

    def banner(text: str) -> Image.Image:
        band = Image.new("RGB", (width, 28), "white")
        ImageDraw.Draw(band).text((10, 6), text, fill="black")
        return band

    titles = rows(sheets["degraded"])[0]
    parts = [sheets["degraded"].crop((0, 0, width, titles[1] + 1))]
    for kind, label in (("clean", "clean LR (antialiased bicubic x1/4)"),
                        ("degraded", "degraded LR (blur, noise, JPEG 45-75)")):
        top, bottom = rows(sheets[kind])[-1]
        parts += [banner(label), sheets[kind].crop((0, top - 8, width, bottom + 8))]
    figure = Image.new("RGB", (width, sum(p.height for p in parts)), "white")
    y = 0
    for part in parts:
        figure.paste(part, (0, y))
        y += part.height
    _write_png(figure.resize((width * 2 // 3, figure.height * 2 // 3), Image.LANCZOS),
               out / "scene_faces.png")


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
    p.add_argument("--face-model", default=None, help="the face model of scene_faces.png "
                   "(default: --face-enhance's)")
    args = p.parse_args(argv)
    out = files.check_writable_dir(Path(args.out))
    sample_faces(out)
    from srgan.options import DEFAULT_FACE_MODEL

    scene_faces(out, args.face_model or DEFAULT_FACE_MODEL)
    if args.curves:
        learning_curve(args.curves, out)
    print(f"wrote figures to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
