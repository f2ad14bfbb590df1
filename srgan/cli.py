"""Command lines: ``train_main``, ``predict_main``, ``evaluate_main``, ``export_main``,
``app_main`` and ``degradation_grid_main(argv)`` return exit codes.

Flags map one to one onto dataclass fields (flag ``--num-blocks`` -> field ``num_blocks``):
:mod:`srgan.config`'s for train.py, :mod:`srgan.options`' for the others. Each flag's type
comes from the field's type hint and its default from the field, so both are written down
once. The CLI builds the frozen dataclass and hands it to the library; no
``argparse.Namespace`` goes further than this module. Neither module imports TensorFlow,
and a command imports it only after its flags are parsed, so ``--help`` answers at once.

Expected failures (bad data, missing weights or checkpoints, unwritable folders) print one
line ``error: ...`` and exit 2 (a NaN loss too); training stopped by Ctrl-C or SIGTERM
saves first, then exits 130 or 143. Every command takes ``-q/--quiet`` and
``-v/--verbose``; what it prints goes through :mod:`logging` (:mod:`srgan.console`).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
import typing
from pathlib import Path
from typing import Optional, Sequence

from srgan import console, recipes
from srgan.config import (SECTIONS, Config, config_from_fields, field_type, flag_name,
                          option_strings)
from srgan.faces.detect import DetectionError
from srgan.options import (EvaluateOptions, ExportOptions, FaceOptions, PredictOptions,
                           ZSSRConfig)
from srgan.web.options import WebOptions

log = logging.getLogger(__name__)


def _add_dataclass_flags(parser, cls) -> None:
    """One flag per field of dataclass ``cls``, added to ``parser`` (or an argument group).

    The type comes from the field's type hint (``bool``: ``--x/--no-x``); help, option
    strings and choices from its ``metadata`` (``help``, ``flags``, ``choices``). The
    argparse default is None, meaning "keep the dataclass default"; a field without a
    default is a required flag.
    """
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        meta = f.metadata
        flags = option_strings(f)
        kind, several = field_type(hints[f.name])
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        shown = " ".join(map(str, f.default)) if isinstance(f.default, tuple) else f.default
        note = "" if required or f.default in (None, ()) else f" (default: {shown})"
        text = meta["help"] + note
        if kind is bool:
            parser.add_argument(*flags, dest=f.name, action=argparse.BooleanOptionalAction,
                                default=None, help=text)
            continue
        choices = meta.get("choices")
        parser.add_argument(*flags, dest=f.name, type=kind, default=None, required=required,
                            nargs="+" if several else None, choices=choices,
                            metavar=None if choices else f.name.upper(), help=text)


def _given(cls, args: argparse.Namespace) -> dict:
    """``{field: value}`` of the flags of ``cls``'s fields that were given."""
    return {f.name: tuple(v) if isinstance(v, list) else v for f in dataclasses.fields(cls)
            if (v := getattr(args, f.name)) is not None}


def _from_args(cls, args: argparse.Namespace):
    """``cls`` built from the parsed flags of its fields; unset flags keep its defaults."""
    return cls(**_given(cls, args))


class _DeprecatedAlias(argparse.Action):
    """An old option name that still works: it stores into the new option's ``dest`` and
    prints one line on stderr naming the option to use instead."""

    def __init__(self, option_strings, dest, use: str, **kwargs):
        super().__init__(option_strings, dest, help=argparse.SUPPRESS, **kwargs)
        self.use = use

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"warning: {option_string} is deprecated; use {self.use}", file=sys.stderr)
        setattr(namespace, self.dest, values)


def add_deprecated_alias(parser: argparse.ArgumentParser, old: str, use: str, dest: str,
                         **kwargs) -> None:
    """Keep option ``old`` working as the option ``use`` names (stored in ``dest``, with
    ``type``/``nargs`` in ``kwargs``); using it prints one deprecation line on stderr."""
    parser.add_argument(old, dest=dest, action=_DeprecatedAlias, use=use, default=None,
                        **kwargs)


def _add_verbosity_flags(p: argparse.ArgumentParser, quiet: str) -> None:
    """``-q/--quiet`` (``quiet`` says what is left) or ``-v/--verbose``."""
    either = p.add_mutually_exclusive_group()
    either.add_argument("-q", "--quiet", action="store_true", help=quiet)
    either.add_argument("-v", "--verbose", action="store_true", help="also debug lines and "
                        "TensorFlow's own start-up lines")


QUIET_HELP = "only warnings and errors"


def train_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="train.py", description="Train an SRGAN (SRResNet generator, VGG perceptual "
        "loss, adversarial loss) on a folder of faces; resumes automatically.")
    p.add_argument("--config", default=None, metavar="RECIPE", help="a recipe file (a "
                   ".toml of recipes/, or a shipped recipe's name such as srgan_x4_faces): "
                   "its stages' settings, which the flags given here override")
    p.add_argument("--stage", type=int, default=None, metavar="N", help="run stage N of "
                   "--config only (default: every stage in turn; a stage that is done is "
                   "skipped)")
    for section, cls in SECTIONS.items():
        _add_dataclass_flags(p.add_argument_group(section), cls)
    _add_verbosity_flags(p, "one line per epoch instead of a progress bar, the time "
                         "left, warnings and errors")
    return p


def _given_settings(args: argparse.Namespace) -> dict:
    """The :class:`Config` fields whose flags were given."""
    return {k: v for cls in SECTIONS.values() for k, v in _given(cls, args).items()}


def config_from_args(args: argparse.Namespace) -> Config:
    """Build the frozen Config from parsed flags; unset flags keep dataclass defaults."""
    return config_from_fields(_given_settings(args))


# Settings that belong to one run: with --config, given only with --stage.
ONE_RUN = ("checkpoint_dir", "logdir", "results_dir", "init_from")


def runs_from_args(args: argparse.Namespace) -> list[tuple[Config, Optional[recipes.Stage]]]:
    """The runs train.py makes: ``[(config, None)]`` from flags alone, or one
    ``(config, stage)`` per stage of ``--config`` (``--stage`` picks one), the flags given
    overriding the recipe. Every config is built before any training, so a placeholder
    left in stage 3 is found before stage 1 trains.

    Raises:
        FileNotFoundError, ValueError: one line naming the recipe, stage or flag.
    """
    given = _given_settings(args)
    if args.config is None:
        if args.stage is not None:
            raise ValueError("--stage picks a stage of a recipe: give --config too")
        return [(config_from_fields(given), None)]
    stages = recipes.load(args.config)
    if args.stage is not None:
        if not 1 <= args.stage <= len(stages):
            raise ValueError(f"{stages[0].file}: --stage {args.stage}, but the recipe has "
                             f"stages 1 to {len(stages)}")
        stages = [stages[args.stage - 1]]
    elif len(stages) > 1 and (one := [k for k in ONE_RUN if k in given]):
        raise ValueError(f"{flag_name(one[0])} names one run's folder or start: with a "
                         f"recipe of {len(stages)} stages, give --stage N with it")
    return [(stage.config(given), stage) for stage in stages]


def _fail(message: str) -> int:
    """Print ``error: message`` (one line, on stderr) and return exit status 2."""
    log.error(message)
    return 2


def _command(main):
    """``run(args)``: ``main(args, level)`` with what it logs shown on the terminal at the
    level ``--quiet``/``--verbose`` ask for."""
    def run(args: argparse.Namespace) -> int:
        level = console.verbosity(args.quiet, args.verbose)
        with console.to_terminal(level):
            return main(args, level)

    return run


def train_main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of ``train.py``."""
    return _command(_train)(train_parser().parse_args(argv))


def _train(args: argparse.Namespace, level: int) -> int:
    try:
        runs = runs_from_args(args)
    except (FileNotFoundError, ValueError) as e:
        return _fail(str(e))
    if any(cfg.train.deterministic for cfg, _ in runs):
        # oneDNN's CPU kernels are outside TensorFlow's op determinism (reruns differ in
        # the last bits); TensorFlow reads this once, when it starts, just below.
        os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    console.import_tensorflow(level)
    from srgan.files import ImageError
    from srgan.models.vgg import BackboneUnavailable
    from srgan.training.run import train
    from srgan.training.stopping import NonFiniteLoss, Stopped

    # A progress bar on a terminal; one line per epoch in a log file, or with --quiet.
    verbose = 2 if args.quiet or not sys.stdout.isatty() else 1
    try:
        for cfg, stage in runs:
            if stage is not None:
                log.info(f"recipe {stage.where()}: {stage.about}")
            train(cfg, verbose=verbose, origin=stage.card() if stage else None)
    except (BackboneUnavailable, ImageError, FileNotFoundError, ValueError, OSError,
            NonFiniteLoss) as e:
        return _fail(str(e))
    except Stopped as e:
        log.warning(str(e), extra={"prefix": ""})
        return e.code
    except KeyboardInterrupt:
        log.warning("interrupted; the last checkpoint is kept", extra={"prefix": ""})
        return 130
    return 0


def _add_model_flag(p: argparse.ArgumentParser, methods: bool = True) -> None:
    """``--model`` (alias ``--weights``), shared by predict.py, evaluate.py and export.py;
    with ``methods``, also ``--method`` and ZSSR's flags."""
    p.add_argument("--model", "--weights", dest="model", default=None,
                   help="srresnet, srgan, srgan-hq, srcnn, blind, blindgan or restore (the "
                   "shipped face models, or their full names such as srgan_x4_faces; "
                   "srgan-hq: srgan trained further on high-quality aligned faces; blind: "
                   "trained on Real-ESRGAN-degraded faces; blindgan: the same after a GAN stage, more "
                   "texture; restore: --face-enhance's face model, for aligned faces), or "
                   "a .weights.h5 file with its .json card "
                   "beside it (default: "
                   "checkpoints/generator.weights.h5 if a training run left one, else srgan)")
    if not methods:
        return
    p.add_argument("--method", choices=("model", "zssr"), default="model",
                   help="model: the trained generator --model names; zssr: zero-shot SR, a "
                   "small network trained on each input image itself (no --model)")
    _add_dataclass_flags(p.add_argument_group("zssr (with --method zssr)"), ZSSRConfig)


def predict_parser() -> argparse.ArgumentParser:
    """The flags of ``predict.py``: ``--model`` and :class:`PredictOptions`'s fields."""
    p = argparse.ArgumentParser(
        prog="predict.py", description="Super-resolve images with a trained generator. "
        "With no --input: the built-in sample faces, degraded as in training, with "
        "PSNR/SSIM against bicubic.")
    _add_model_flag(p)
    _add_dataclass_flags(p, PredictOptions)
    _add_dataclass_flags(p.add_argument_group("faces in photos"), FaceOptions)
    _add_verbosity_flags(p, QUIET_HELP + " (progress bars stay on a terminal)")
    return p


def _progress_bar():
    """A ``progress(done, total, note)`` that draws a Keras progress bar (the note is for
    the web page), a new one each time ``done`` starts again at 1 (the next image)."""
    import keras

    bar = None

    def progress(done: int, total: int, note: str) -> None:
        nonlocal bar
        if bar is None or done == 1:
            bar = keras.utils.Progbar(total, unit_name="step")
        bar.update(done)

    return progress


def _load_model(args: argparse.Namespace):
    """The generator ``--model`` names (or ZSSR, with ``--method zssr``); says which runs.

    Raises:
        ValueError: flags that do not go together.
    """
    if args.method == "zssr":
        from srgan.inference.zssr import zssr_generator

        if args.model is not None or getattr(args, "tile", None) is not None:
            raise ValueError("--method zssr trains on each whole image: it takes no --model "
                             "and no --tile")
        cfg = _from_args(ZSSRConfig, args)
        log.info(f"method: ZSSR x{cfg.scale}, at most {cfg.steps} steps per x2 stage")
        return zssr_generator(cfg, _progress_bar())
    if args.scale is not None:
        raise ValueError("--scale is ZSSR's (--method zssr); a model's scale is its card's")
    return _load_generator(args.model)


def _load_generator(model: Optional[str]):
    """Load the generator ``--model`` names and say which one runs."""
    from srgan import pretrained
    from srgan.models.weights import load_generator

    path = pretrained.resolve(model)
    generator = load_generator(path)
    trained = generator.card.get("training", {})
    facts = ", ".join(f"{k} {trained[k]}" for k in ("phase", "step") if k in trained)
    log.info(f"model: {path}" + (f" ({facts})" if facts else ""))
    return generator


def predict_main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of ``predict.py``; exits 1 if any input failed, 2 on a usage error."""
    return _command(_predict)(predict_parser().parse_args(argv))


def _predict(args: argparse.Namespace, level: int) -> int:
    console.import_tensorflow(level)
    from srgan.inference import predict

    try:
        options = _from_args(PredictOptions, args)
        faces = _from_args(FaceOptions, args)
        generator = _load_model(args)
        from srgan.inference.faces import load_restorer

        restorer = load_restorer(faces, options.backend)
        if options.input is None:
            from srgan.evaluation.samples import predict_samples

            return predict_samples(generator, options, restorer)
        return predict.run(generator, options, restorer)
    except (FileNotFoundError, ValueError, OSError, DetectionError) as e:
        return _fail(str(e))


def evaluate_parser() -> argparse.ArgumentParser:
    """The flags of ``evaluate.py``: ``--model`` and :class:`EvaluateOptions`'s fields
    (``--out`` still works, deprecated, for ``-o/--output``)."""
    p = argparse.ArgumentParser(
        prog="evaluate.py", description="PSNR/SSIM (RGB and Y), LPIPS and NIQE of a "
        "trained generator against nearest, bilinear and bicubic upscaling, on every image "
        "of a folder degraded as in training (or, with --no-reference, NIQE alone on "
        "low-resolution photos); tables, CSV/JSON, a plot and a contact sheet.")
    _add_model_flag(p)
    _add_dataclass_flags(p, EvaluateOptions)
    add_deprecated_alias(p, "--out", "-o/--output", dest="output")
    _add_verbosity_flags(p, QUIET_HELP + " (the results are in the files written)")
    return p


def evaluate_main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of ``evaluate.py``; exits 1 if any image failed, 2 on a usage error."""
    return _command(_evaluate)(evaluate_parser().parse_args(argv))


def _evaluate(args: argparse.Namespace, level: int) -> int:
    console.import_tensorflow(level)
    from srgan.evaluation import evaluate
    from srgan.models.vgg import BackboneUnavailable

    try:
        options = _from_args(EvaluateOptions, args)
        return evaluate.run(_load_model(args), options)
    except (BackboneUnavailable, FileNotFoundError, ValueError, OSError) as e:
        return _fail(str(e))


def export_parser() -> argparse.ArgumentParser:
    """The flags of ``export.py``: ``--model`` and :class:`ExportOptions`'s fields."""
    p = argparse.ArgumentParser(
        prog="export.py", description="Export a trained generator as a TensorFlow "
        "SavedModel or ONNX model (any image size), or a TFLite model (fixed tile size; "
        "float32, float16 or int8 weights); all take and return uint8 RGB.")
    _add_model_flag(p, methods=False)
    _add_dataclass_flags(p, ExportOptions)
    _add_verbosity_flags(p, QUIET_HELP)
    return p


def export_main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of ``export.py``; exits 2 on a usage error."""
    return _command(_export)(export_parser().parse_args(argv))


def _export(args: argparse.Namespace, level: int) -> int:
    console.import_tensorflow(level)
    from srgan.inference import export

    try:
        options = _from_args(ExportOptions, args)
        generator = _load_generator(args.model)
        name = generator.path.name.removesuffix(".weights.h5")
        log.info(f"wrote {export.export(generator, name, options)}")
    except (FileNotFoundError, ValueError, OSError) as e:
        return _fail(str(e))
    return 0


def app_main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of ``app.py``: serve the web page until Ctrl-C."""
    p = argparse.ArgumentParser(prog="app.py", description="A local web page: upload an "
                                "image, upscale it with SRGAN, SRResNet, ZSSR or bicubic, "
                                "compare with bicubic and download the result.")
    _add_dataclass_flags(p, WebOptions)
    _add_verbosity_flags(p, QUIET_HELP)
    return _command(_app)(p.parse_args(argv))


def _app(args: argparse.Namespace, level: int) -> int:
    try:
        options = _from_args(WebOptions, args)
    except ValueError as e:
        return _fail(str(e))
    console.import_tensorflow(level)
    from srgan.web.server import serve

    try:
        serve(options)
    except (OSError, OverflowError) as e:  # the port taken or out of range, a bad address
        return _fail(f"cannot listen on {options.host}:{options.port} ({e})")
    return 0


def degradation_grid_main(argv: Optional[Sequence[str]] = None) -> int:
    """``python -m scripts.degradation_grid IMAGE -o grid.png``: a 4x4 grid of 16
    Real-ESRGAN degradations of one face; exit 0, or 2 with one line."""
    p = argparse.ArgumentParser(
        prog="python -m scripts.degradation_grid", description="Write a 4x4 grid of 16 "
        "Real-ESRGAN degradations of one face: what a --degradation realesrgan model "
        "trains on.")
    p.add_argument("image", help="a face photo (centre square, resized as in training)")
    p.add_argument("-o", "--output", default="degradations.png", help="PNG to write")
    p.add_argument("--hr-size", type=int, default=256, help="HR side")
    p.add_argument("--scale", type=int, default=4, choices=(2, 4, 8), help="LR is 1/scale")
    p.add_argument("--seed", type=int, default=0, help="the grid's seed")
    _add_verbosity_flags(p, QUIET_HELP)
    return _command(_degradation_grid)(p.parse_args(argv))


def _degradation_grid(args: argparse.Namespace, level: int) -> int:
    console.import_tensorflow(level)
    from srgan import files
    from srgan.data.degradation import sample_grid
    from srgan.data.transforms import prepare_hr

    try:
        if args.hr_size < 16 or args.hr_size % args.scale:
            raise ValueError(f"--hr-size {args.hr_size} must be at least 16 and a multiple "
                             f"of --scale {args.scale}")
        hr = prepare_hr(files.read_image(Path(args.image)), args.hr_size)
        files.atomic_save_png(args.output, sample_grid(hr, args.scale, args.seed))
    except (ValueError, OSError) as e:
        return _fail(str(e))
    log.info(f"wrote {args.output}")
    return 0
