"""Run train-data loading and predict on every bad-input fixture kind; print what happened.

    python -m scripts.bad_inputs_report [--workdir DIR]

Fixtures come from scripts/bad_images.py (``make_bad_images``). For each kind:

* train: the file goes through the training pipeline (``pipeline.make_dataset``, one file,
  batch 1, default HR size and ``--max-pixels``): ``used`` with the decoded size, or
  ``skipped`` with the one-line reason the run prints; ``not listed`` for files that
  listing ignores (hidden, not an image extension, GIF);
* predict: ``predict.py -i FILE`` with a tiny untrained generator: the output PNG or the
  error line, checking that a failed input leaves no file at all (no partial output);

each timed (the promise: under 2 s). Then the whole folder at once: training with
``--max-bad-fraction 1`` (skips and counts) and with the default (a clear error), and
predict (continues, exits 1). Exits 1 if any kind crashed, hung past 2 s or left a
partial file.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # noqa: E402

from scripts.bad_images import DIR_KINDS, EXPECTED, make_bad_images  # noqa: E402
from srgan import console  # noqa: E402
from srgan.config import DataConfig, ModelConfig  # noqa: E402
from srgan.data import pipeline  # noqa: E402
from srgan.files import list_images, read_image  # noqa: E402
from srgan.inference import predict  # noqa: E402
from srgan.models.generators import build_generator  # noqa: E402
from srgan.models.weights import GENERATOR_WEIGHTS, export_generator, load_generator  # noqa: E402

LIMIT_S = 2.0
TINY = ModelConfig(num_filters=8, num_blocks=1)


def _one_line(text: str) -> str:
    return " | ".join(line for line in text.strip().splitlines() if line) or "-"


def train_outcome(path: Path, listed: set[Path], cfg: DataConfig) -> str:
    """What the training pipeline does with one file."""
    if path not in listed:
        return "not listed (ignored)"
    guard = pipeline.DecodeGuard(1, cfg.max_pixels, cfg.max_bad_fraction)
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            lr, hr = next(iter(pipeline.make_dataset([path], cfg, TINY.scale, 0, guard)))
    except tf.errors.OpError:
        return f"skipped: {guard.bad[str(path)]}" if guard.bad else f"CRASH: {guard.error}"
    h, w = read_image(path, max_pixels=cfg.max_pixels).shape[:2]
    return f"used: {w}x{h} RGB -> HR {hr.shape[2]}x{hr.shape[1]}, LR {lr.shape[2]}x{lr.shape[1]}"


def predict_outcome(generator, path: Path, out: Path) -> tuple[str, list[str]]:
    """``predict.py -i path -o out``: (what happened, problems)."""
    options = predict.PredictOptions(input=str(path), output=str(out))
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            rc = predict.predict_folder(generator, options)
        except (FileNotFoundError, ValueError, OSError) as e:  # what predict_main reports
            print(f"error: {e}", file=sys.stderr)
            rc = 2
    written = sorted(out.rglob("*")) if out.exists() else []
    problems = [f"temp file {p.name}" for p in written if ".tmp-" in p.name]
    if rc:
        problems += [f"partial output {p.name}" for p in written if ".tmp-" not in p.name]
        return f"exit {rc}, {_one_line(stderr.getvalue())}", problems
    from PIL import Image

    shapes = [f"{p.name} {Image.open(p).size[0]}x{Image.open(p).size[1]} "
              f"{Image.open(p).mode}" for p in written]
    return f"exit 0, wrote {', '.join(shapes)}", problems


def whole_folder(root: Path, generator, out: Path) -> list[str]:
    """The fixture folder at once: training with max_bad_fraction 1 and the default, and
    predict. Returns report lines."""
    paths = list_images(root)
    lines = []
    for fraction in (1.0, DataConfig.max_bad_fraction):
        cfg = DataConfig(batch_size=1, max_bad_fraction=fraction)
        guard = pipeline.DecodeGuard(len(paths), cfg.max_pixels, fraction)
        with contextlib.redirect_stderr(io.StringIO()) as err:
            try:
                for _ in pipeline.make_dataset(paths, cfg, TINY.scale, 0, guard).take(len(paths)):
                    pass
                outcome = (f"{len(paths)} listed, {len(guard.bad)} skipped (one line each), "
                           f"{len(paths) - len(guard.bad)} used")
            except tf.errors.OpError:
                outcome = f"stopped: {guard.error}"
        warnings = [line for line in err.getvalue().splitlines() if line.startswith("warning")]
        lines.append(f"train, --max-bad-fraction {fraction:g}: {outcome}; "
                     f"{len(warnings)} warning lines")
    options = predict.PredictOptions(input=str(root), output=str(out))
    with contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()) as err:
        rc = predict.predict_folder(generator, options)
    outputs = list(out.glob("*.png"))
    lines.append(f"predict on the folder: exit {rc}, {len(outputs)} outputs, "
                 f"{len(err.getvalue().splitlines())} error lines, "
                 f"{len(list(out.glob('.*')))} temp files left")
    return lines


def report(work: Path) -> tuple[list[tuple[str, str, str, float]], list[str], list[str]]:
    """Returns (rows (kind, train, predict, seconds), whole-folder lines, problems)."""
    root = work / "fixtures"
    root.mkdir(parents=True)
    kinds = make_bad_images(root)
    weights = work / "model" / GENERATOR_WEIGHTS
    weights.parent.mkdir()
    export_generator(build_generator(TINY), TINY, weights, {"hr_size": 32})
    generator = load_generator(weights)
    listed = set(list_images(root))
    cfg = DataConfig(batch_size=1)
    rows, problems = [], []
    for kind in [*EXPECTED, *DIR_KINDS]:
        if kind not in kinds:
            continue
        path, start = kinds[kind], time.perf_counter()
        try:
            if path.is_dir() and not path.is_symlink() or kind in DIR_KINDS:
                found = list_images(path)
                train = f"listing finds {len(found)} images" if found else (
                    f"error: {path}: no images found")
            else:
                train = train_outcome(path, listed, cfg)
            pred, bad = predict_outcome(generator, path, work / "out" / kind)
        except Exception as e:  # noqa: BLE001 - a crash is what this report looks for
            train, pred, bad = f"CRASH {type(e).__name__}: {e}", "-", ["crash"]
        seconds = time.perf_counter() - start
        problems += [f"{kind}: {p}" for p in bad]
        if seconds >= LIMIT_S:
            problems.append(f"{kind}: took {seconds:.2f} s")
        rows.append((kind, train, pred, seconds))
    return rows, whole_folder(root, generator, work / "out" / "_folder"), problems


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workdir", type=Path, default=None)
    args = p.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bad-inputs-"))
    with console.to_terminal():  # srgan's lines, where predict.py and train.py show them
        rows, folder, problems = report(work)
    print(f"| kind | train-data loading | predict | s |\n|---|---|---|---|")
    for kind, train, pred, seconds in rows:
        train, pred = (s.replace(str(work), "…") for s in (train, pred))
        print(f"| {kind} | {train} | {pred} | {seconds:.2f} |")
    print()
    for line in folder:
        print(line.replace(str(work), "…"))
    slowest = max(rows, key=lambda r: r[3])
    print(f"{len(rows)} kinds; slowest {slowest[0]} {slowest[3]:.2f} s (limit {LIMIT_S:g} s); "
          f"problems: {'; '.join(problems) or 'none'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
