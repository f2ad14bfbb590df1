"""Command line of ``python -m benchmarks.scenes`` (see the package docstring)."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from typing import Optional, Sequence


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    from benchmarks.scenes.run import FACE_SPLITS, LR_KINDS, SceneOptions
    from srgan.options import LARGE_FACES

    default = SceneOptions(faces="", backgrounds="")
    p = argparse.ArgumentParser(prog="python -m benchmarks.scenes",
                                description="Face super-resolution in whole photos: "
                                "composed scenes, scored on the faces only.")
    p.add_argument("--faces", required=True, help="folder of aligned HR face images")
    p.add_argument("--backgrounds", required=True, help="folder of background photos")
    p.add_argument("-o", "--output", default=default.output,
                   help=f"output folder (default: {default.output})")
    p.add_argument("--faces-split", choices=FACE_SPLITS, default=default.faces_split,
                   help="validation: only the faces a training run on --faces holds out "
                   "(default); all: every face")
    p.add_argument("--scenes", type=int, default=default.scenes,
                   help=f"scenes to compose (default: {default.scenes})")
    p.add_argument("--seed", type=int, default=default.seed, help="composition seed")
    p.add_argument("--lr", nargs="+", choices=LR_KINDS, default=list(LR_KINDS),
                   help="LR kinds to run (default: both)")
    p.add_argument("--model", nargs="+", default=[], dest="models",
                   help="whole-photo generators: srgan, srresnet, blind or weights paths")
    p.add_argument("--method", nargs="+", default=[], dest="methods",
                   help="methods plugged in by name (benchmarks.scenes.methods.PLUGINS)")
    p.add_argument("--backend", default=default.backend, help="generator backend")
    p.add_argument("--tile", type=int, default=None, help="LR tile side for generators")
    p.add_argument("--lr-size", type=int, default=default.scene.lr_size,
                   help=f"longer LR side of a scene (default: {default.scene.lr_size})")
    p.add_argument("--sheet-faces", type=int, default=default.sheet_faces,
                   help=f"faces on each contact sheet (default: {default.sheet_faces})")
    p.add_argument("--background-margin", type=float, default=default.background_margin,
                   help="the background check skips pixels within this fraction of a face "
                   f"square's side from it (default: {default.background_margin})")
    p.add_argument("--min-eye", type=float, default=default.min_eye,
                   help=f"LR eye distance from which a face counts for detection recall "
                   f"(default: {default.min_eye:g})")
    p.add_argument("--face-model", default=default.face_model,
                   help="--method face-enhance: the face model (as predict.py's)")
    p.add_argument("--face-background", default=None, help="--method face-enhance: the "
                   "background model (default: the first --model)")
    p.add_argument("--large-faces", choices=LARGE_FACES, default=default.large_faces,
                   help="--method face-enhance: as predict.py's")
    p.add_argument("--save-images", action="store_true",
                   help="also write every scene's HR, LR and outputs as PNG")
    return p.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from dataclasses import replace

    from benchmarks.scenes.compose import SceneConfig, mtcnn_locator
    from benchmarks.scenes.run import SceneOptions, run
    from srgan.evaluation.metrics import LPIPS
    from srgan.models.vgg import BackboneUnavailable

    fields = {k: tuple(v) if isinstance(v, list) else v for k, v in vars(args).items()
              if k != "lr_size"}
    options = SceneOptions(**fields, scene=replace(SceneConfig(), lr_size=args.lr_size))
    command = "python -m benchmarks.scenes " + shlex.join(argv)
    try:
        run(options, mtcnn_locator(), LPIPS(), command)
    except (BackboneUnavailable, FileNotFoundError, ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
