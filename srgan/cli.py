"""Command lines: ``train_main``, ``predict_main`` and ``evaluate_main(argv)`` return exit codes.

Flags map one to one onto :mod:`srgan.config` fields (flag ``--num-blocks`` -> field
``num_blocks``); defaults come from the dataclasses, so they are written down once.
Expected failures (bad data, missing weights or checkpoints, unwritable folders) print one
line ``error: ...`` and exit 2 (a NaN loss too); training stopped by Ctrl-C or SIGTERM
saves first, then exits 130 or 143.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import typing
from typing import Optional, Sequence

from srgan.config import (DISC_HEADS, KEEP_BEST, LR_SCHEDULES, PERCEPTUAL_BACKBONES,
                          PIXEL_LOSSES, SCALES, STRATEGIES, UPSAMPLE_MODES, Config, DataConfig,
                          LossConfig, ModelConfig, TrainConfig)

HELP = {
    "data_dirs": "folders of training images, searched recursively (the built-in sample "
                 "faces stand in when the default folder holds none); validation images "
                 "are held out of the first",
    "hr_size": "HR image side; LR is hr_size/scale", "crop": "train on random HR patches "
    "of this size instead of whole faces", "batch_size": "global batch size",
    "max_pixels": "refuse images with more pixels than this, before decoding",
    "scale": "upscaling factor", "num_filters": "generator width",
    "num_blocks": "generator residual blocks", "upsample": "x2 upsampling stage",
    "disc_head": "discriminator head: per-location logits or one per image (the paper)",
    "perceptual": "perceptual backbone (auto: vgg19 if obtainable, else vgg16-offline)",
    "vgg_weights": "local Keras VGG19 notop weights file (.h5) for --perceptual vgg19",
    "feature_layers": "backbone layers of the content loss (default: block5_conv4 for "
                      "vgg19, block5_conv3 for vgg16-offline)",
    "layer_weights": "one weight per --feature-layers entry (default: 1 each)",
    "feature_norm": "compare unit-normalised features (LPIPS's distance, channel weights 1) "
                    "instead of the paper's MSE of scaled features",
    "feature_scale": "feature multiplier before the MSE (default: 1/12.75 for vgg19, "
                     "2.26 for vgg16-offline)",
    "adv_weight": "adversarial weight in the generator loss",
    "pixel_weight": "weight of an L1 pixel term in the GAN-phase generator loss (ESRGAN keeps "
                    "one; the paper does not)",
    "epochs": "total GAN epochs (a resumed run stops at this total)",
    "pretrain_epochs": "SRResNet pixel-loss epochs before the GAN phase",
    "pretrain_lr": "generator learning rate of the SRResNet phase",
    "pixel_loss": "pixel loss of the SRResNet phase (mse: the paper)",
    "lr_schedule": "learning-rate schedule over each phase (step: x0.1 halfway, the paper)",
    "lr_min_ratio": "final rate of the cosine schedule, as a fraction of the first",
    "ema_decay": "moving average of the generator's weights, which is what is validated "
                 "and exported (0: off)",
    "init_from": "generator weights for a fresh run: PATH, srresnet, srgan or none "
                 "(default: the shipped SRResNet when --pretrain-epochs is 0)",
    "val_every": "validate every N generator steps (default: every epoch)",
    "save_every": "also save a checkpoint every N generator steps",
    "batch_norm": "BatchNorm in the generator's residual blocks (the paper)",
    "global_residual": "add a bilinear upsampling of the input to the generator's output",
    "steps_per_epoch": "default: one pass over the data",
    "max_bad_fraction": "stop when more than this fraction of the files cannot be decoded",
    "deterministic": "TensorFlow op determinism: bit-identical reruns for a --seed",
    "disc_filters": "discriminator width (first block)",
    "disc_dense": "discriminator hidden dense width", "g_lr": "generator Adam learning rate",
    "d_lr": "discriminator Adam learning rate", "beta_1": "Adam beta_1 for both networks",
    "seed": "random seed", "logdir": "TensorBoard folder",
    "checkpoint_dir": "checkpoints, config.json and the exported generator",
    "results_dir": "triptych PNGs", "sample_every": "epochs between "
    "triptychs", "num_samples": "fixed faces shown in triptychs",
    "val_data": "validation images (default: hold out about one training file in ten)",
    "val_max_images": "at most this many validation images",
    "val": "PSNR/SSIM (Y) and LPIPS on the validation images every epoch",
    "keep_best": "validation metric that picks checkpoints/generator_best.weights.h5",
    "mixed_precision": "mixed_float16 with loss scaling on GPU, mixed_bfloat16 on CPU",
    "jit": "XLA-compile the train step (slower on CPU)",
    "strategy": "tf.distribute: one device, all local GPUs, or the workers in TF_CONFIG "
                "(--batch-size stays global)",
}
FLAG_NAMES = {"data_dirs": "data"}
CHOICES = {"upsample": UPSAMPLE_MODES, "disc_head": DISC_HEADS,
           "perceptual": PERCEPTUAL_BACKBONES, "scale": SCALES, "keep_best": KEEP_BEST,
           "strategy": STRATEGIES, "pixel_loss": PIXEL_LOSSES, "lr_schedule": LR_SCHEDULES}


def _field_type(hint) -> tuple[type, bool]:
    """A field's type hint -> (argparse type, takes several values). ``Optional[X]`` is X,
    ``tuple[X, ...]`` is several X."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) is tuple:
        return args[0], True
    if args:  # Optional[X]
        return args[0], False
    return hint, False


def _add_dataclass_flags(parser: argparse.ArgumentParser, cls) -> None:
    """One ``--flag`` per dataclass field, typed from its type hint, defaulting to None
    (meaning: keep the dataclass default)."""
    group = parser.add_argument_group(cls.__name__.replace("Config", "").lower())
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        flag = "--" + FLAG_NAMES.get(f.name, f.name.replace("_", "-"))
        kind, several = _field_type(hints[f.name])
        shown = " ".join(f.default) if isinstance(f.default, tuple) else f.default
        default_note = "" if f.default is None else f" (default: {shown})"
        if kind is bool:
            group.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction,
                               default=None, help=HELP.get(f.name, "") + default_note)
            continue
        group.add_argument(flag, dest=f.name, type=kind, default=None,
                           nargs="+" if several else None,
                           choices=CHOICES.get(f.name), metavar=None if f.name in CHOICES
                           else f.name.upper(), help=HELP.get(f.name, "") + default_note)


def train_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="train.py", description="Train an SRGAN (SRResNet generator, VGG perceptual "
        "loss, adversarial loss) on a folder of faces; resumes automatically.")
    for cls in (DataConfig, ModelConfig, LossConfig, TrainConfig):
        _add_dataclass_flags(p, cls)
    p.add_argument("--quiet", action="store_true", help="one line per epoch, no progress bar")
    return p


def config_from_args(args: argparse.Namespace) -> Config:
    """Build the frozen Config from parsed flags; unset flags keep dataclass defaults."""
    parts = {}
    for name, cls in (("data", DataConfig), ("model", ModelConfig), ("loss", LossConfig),
                      ("train", TrainConfig)):
        given = {f.name: tuple(v) if isinstance(v, list) else v
                 for f in dataclasses.fields(cls)
                 if (v := getattr(args, f.name)) is not None}
        parts[name] = cls(**given)
    return Config(**parts)


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def train_main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of ``train.py``."""
    args = train_parser().parse_args(argv)
    try:
        cfg = config_from_args(args)
    except ValueError as e:
        return _fail(str(e))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from srgan.io import ImageError
    from srgan.models.vgg import BackboneUnavailable
    from srgan.training.run import train
    from srgan.training.stopping import NonFiniteLoss, Stopped

    try:
        train(cfg, verbose=2 if args.quiet else "auto")
    except (BackboneUnavailable, ImageError, FileNotFoundError, ValueError, OSError,
            NonFiniteLoss) as e:
        return _fail(str(e))
    except Stopped as e:
        print(e, file=sys.stderr)
        return e.code
    except KeyboardInterrupt:
        print("interrupted; the last checkpoint is kept", file=sys.stderr)
        return 130
    return 0


def predict_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="predict.py", description="Super-resolve images with a trained generator. "
        "With no --input: the built-in sample faces, degraded as in training, with "
        "PSNR/SSIM against bicubic.")
    p.add_argument("-i", "--input", help="image file or folder (searched recursively) of "
                   "real low-resolution images, upscaled at their native size")
    p.add_argument("-o", "--output", default="results", help="output folder (default: results)")
    _add_generator_args(p)
    p.add_argument("--tile", type=int, default=None,
                   help="process the LR image in tiles of this size (bounds memory)")
    p.add_argument("--tile-pad", type=int, default=16, help="LR pixels of context around "
                   "each tile, cropped away after upscaling (default: 16)")
    return p


def _add_generator_args(p: argparse.ArgumentParser) -> None:
    """``--model`` and ``--max-pixels``, shared by predict.py and evaluate.py."""
    p.add_argument("--model", "--weights", dest="model", default=None,
                   help="srresnet or srgan (the shipped face models), or a .weights.h5 file "
                   "with its .json card beside it (default: checkpoints/generator.weights.h5 "
                   "if a training run left one, else srgan)")
    p.add_argument("--max-pixels", type=int, default=DataConfig.max_pixels,
                   help=f"refuse inputs larger than this (default: {DataConfig.max_pixels})")


def _load_model(model: Optional[str]):
    """Load the generator ``--model`` names and say which one runs."""
    from srgan import pretrained
    from srgan.models.weights import load_generator

    path = pretrained.resolve(model)
    generator = load_generator(path)
    trained = generator.card.get("training", {})
    facts = ", ".join(f"{k} {trained[k]}" for k in ("phase", "step") if k in trained)
    print(f"model: {path}" + (f" ({facts})" if facts else ""))
    return generator


def predict_main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of ``predict.py``; exits 1 if any input failed, 2 on a usage error."""
    args = predict_parser().parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from srgan.inference import predict

    try:
        generator = _load_model(args.model)
        if args.input is None:
            return predict.predict_samples(generator, args)
        return predict.predict_folder(generator, args)
    except (FileNotFoundError, ValueError, OSError) as e:
        return _fail(str(e))


def evaluate_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="evaluate.py", description="PSNR/SSIM (RGB and Y) and LPIPS of a trained "
        "generator against nearest, bilinear and bicubic upscaling, on every image of a "
        "folder degraded as in training; tables, CSV/JSON, a plot and a contact sheet.")
    p.add_argument("--data", required=True, help="folder of HR images, searched recursively")
    _add_generator_args(p)
    p.add_argument("--out", default="results/eval", help="output folder (default: results/eval)")
    p.add_argument("--full-image", action="store_true", help="keep whole images (cropped to "
                   "a multiple of the scale) instead of preparing faces as in training")
    p.add_argument("--hr-size", type=int, default=None,
                   help="HR side without --full-image (default: the generator's training size)")
    p.add_argument("--rank-by", choices=KEEP_BEST, default="lpips", help="what orders the "
                   "contact sheet: SR's gain over bicubic in this metric (default: lpips)")
    p.add_argument("--sheet-rows", type=int, default=3,
                   help="best and worst images each on the contact sheet (default: 3)")
    p.add_argument("--tile", type=int, default=None,
                   help="run the generator on LR tiles of this size (bounds memory)")
    return p


def evaluate_main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of ``evaluate.py``; exits 1 if any image failed, 2 on a usage error."""
    args = evaluate_parser().parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from srgan.evaluation import evaluate
    from srgan.models.vgg import BackboneUnavailable

    try:
        generator = _load_model(args.model)
        return evaluate.run(generator, args)
    except (BackboneUnavailable, FileNotFoundError, ValueError, OSError) as e:
        return _fail(str(e))
