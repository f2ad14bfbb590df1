"""Copies a trained generator into ``weights/`` with its model card.

Usage:
    python -m scripts.release_weights RUN_DIR NAME [--which best|latest]
        [--recipe FILE --stage N] [--command "python train.py ..."]
        [--eval results/eval/results.json ...] [--data-note TEXT] [--licence TEXT]
        [--aligned-faces]

RUN_DIR is a training run's checkpoint folder (``generator*.weights.h5`` and cards);
NAME is the shipped name, e.g. ``srresnet_x4_faces``. The card keeps what the run wrote
(architecture, training step, hours, hardware, data folders, validation scores, and the
recipe file and stage when ``train.py --config`` made it) and adds the command, the data
and its licence, the learning curve (every row of the run's ``validation.csv``, as
``curve``), and the summaries of ``evaluate.py`` runs (``results.json``). The weights are re-saved through the same export as training, so the
file is the plain-Keras format (card format 2). Files are written atomically.
"""

import argparse
import csv
import json
import sys
from pathlib import Path

from srgan import files
from srgan.models.weights import (GENERATOR_BEST_WEIGHTS, GENERATOR_WEIGHTS,
                                  export_generator, generator_json, load_generator)
from srgan.pretrained import CLONE_WEIGHTS
from srgan.training.validation import CSV_NAME

MAX_BYTES = 10 * 1024 * 1024


def _names_only(training: dict) -> None:
    """Data folders and the starting weights by name: a card must not carry this machine's
    paths."""
    training["data"] = [Path(d).name for d in training.get("data", [])]
    for key in ("init_from", "recipe"):
        if training.get(key):
            training[key] = Path(str(training[key])).name


def _no_nan(value):
    """``value`` with NaN (NIQE of images too small for it) as None: JSON has no NaN."""
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_nan(v) for v in value]
    return None if isinstance(value, float) and value != value else value


def _curve(run_dir: Path) -> list[dict]:
    """The run's validation rows (``validation.csv``: phase, epoch, step, the model's and
    bicubic's PSNR-Y, SSIM and LPIPS), numbers as numbers; ``[]`` when it has none."""
    path = run_dir / CSV_NAME
    if not path.is_file():
        return []
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return [{k: v if k == "phase" else (int(v) if k in ("epoch", "step") else float(v))
             for k, v in row.items()} for row in rows]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("run_dir")
    p.add_argument("name")
    p.add_argument("--which", choices=("best", "latest"), default="best")
    p.add_argument("--recipe", default=None, help="the recipe file that made it, when the "
                   "run's card does not say (train.py --config records it)")
    p.add_argument("--stage", type=int, default=None, help="the recipe's stage that made it")
    p.add_argument("--command", default=None, help="the train.py command(s) that made it "
                   "(default with a recipe: train.py --config RECIPE --stage N)")
    p.add_argument("--eval", nargs="*", default=[], help="evaluate.py results.json files")
    p.add_argument("--earlier", nargs="*", default=[],
                   help="model cards (.json) of the earlier stages this run started from, "
                   "oldest first: their training and validation go into the card's history")
    p.add_argument("--data-note", default=None, help="what the training data was")
    p.add_argument("--licence", default=None, help="the terms the weights carry")
    p.add_argument("--aligned-faces", action="store_true",
                   help="a face model trained on whole crops aligned as --face-enhance aligns "
                   "faces (scripts/align_faces.py): --face-enhance then warps each face to "
                   "that crop instead of restoring it at its own scale")
    p.add_argument("--out-dir", default=str(CLONE_WEIGHTS))
    args = p.parse_args(argv)

    weights = Path(args.run_dir) / (GENERATOR_BEST_WEIGHTS if args.which == "best"
                                    else GENERATOR_WEIGHTS)
    generator = load_generator(weights)
    card = dict(generator.card)
    card.pop("format", None)
    extra = {k: v for k, v in card.items() if k != "model"}
    extra = {"name": args.name, "task": f"x{card['model']['scale']} face super-resolution "
             f"({card['hr_size'] // card['model']['scale']}x{card['hr_size'] // card['model']['scale']}"
             f" -> {card['hr_size']}x{card['hr_size']}; any input size)", **extra}
    training = extra.setdefault("training", {})
    if args.recipe:
        training["recipe"] = args.recipe
    if args.stage is not None:
        training["recipe_stage"] = args.stage
    _names_only(training)
    if args.command:
        training["command"] = args.command
    elif training.get("recipe"):
        training["command"] = (f"python train.py --config recipes/{training['recipe']} "
                               f"--stage {training.get('recipe_stage', 1)}")
    history = []
    for path in args.earlier:
        earlier = json.loads(Path(path).read_text())
        stage = earlier.get("training", {})
        _names_only(stage)
        history.append({"training": stage, "validation": earlier.get("validation")})
    if history:
        extra["earlier_stages"] = history
        training["total_hours"] = round(training.get("hours", 0) + sum(
            h["training"].get("hours", 0) for h in history), 3)
    if args.data_note:
        extra["data"] = args.data_note
    if args.licence:
        extra["licence"] = args.licence
    if args.aligned_faces:
        extra["aligned_faces"] = True
    curve = _curve(Path(args.run_dir))
    if curve:
        extra["curve"] = _no_nan(curve)
    evaluations = []
    for path in args.eval:
        record = json.loads(Path(path).read_text())
        settings = dict(record["settings"])
        for key in ("data", "model"):  # names, not this machine's paths
            if key in settings:
                settings[key] = Path(str(settings[key])).name
        evaluations.append(_no_nan({"settings": settings, "summary": record["summary"]}))
    if evaluations:
        extra["evaluation"] = evaluations
    out = Path(args.out_dir) / f"{args.name}.weights.h5"
    files.check_writable_dir(out.parent)
    export_generator(generator.model, generator.config, out, extra)
    size = out.stat().st_size
    if size > MAX_BYTES:
        print(f"error: {out}: {size} bytes, over the 10 MB a shipped file may have",
              file=sys.stderr)
        return 1
    print(f"wrote {out} ({size / 1e6:.2f} MB) and {generator_json(out).name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
