"""Layers the generators share: convolutions that are faster on CPU with the weights of
Keras's own (:class:`FastConv2D`, :class:`BlockConv2D`), sub-pixel upsampling
(:class:`PixelShuffle`) and interpolating upsampling (:class:`BilinearUpsample`,
:class:`BicubicUpsample`).

:class:`BlockConv2D` is a large-kernel, few-channel convolution computed on space-to-depth
blocks. The generator's last layer is a 9x9 conv from 64 channels to 3 at the output resolution.
TensorFlow's CPU kernels handle so few output channels badly, the backward pass above all:
on a 2-core CPU at 256x256 its two backward convolutions took 2-3 s, most of the generator's
backward pass, for 4 GFLOP (``python -m benchmarks.bench`` reports the step time).

The same convolution can be computed on ``b x b`` blocks: ``space_to_depth(b)`` turns the
``(H, W, C)`` input into ``(H/b, W/b, b*b*C)``, a ``(2*ceil(r/b)+1)``-tap conv (``r`` the
kernel radius) maps it to ``(H/b, W/b, b*b*C_out)``, and ``depth_to_space(b)`` gives the
``(H, W, C_out)`` result. The block kernel is a rearrangement of the 9x9 one (plus
structural zeros), rebuilt from it on every call, so the layer keeps a plain Conv2D's
``kernel`` and ``bias`` (same shapes, same saved weights) and computes the same function to
float rounding. With ``b = 4`` and a 9x9 kernel the block conv is 3x3 from ``16*C`` to 48
channels: 1.78x the multiply-adds, but shapes the CPU kernels run several times faster.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import layers, ops

try:
    import tensorflow as tf
except ImportError:  # another Keras backend alone (scripts/finetune_jax.py): plain layers only
    tf = None


def block_tap_index(kernel_size: int, block: int) -> np.ndarray:
    """Where each block-kernel tap reads the (padded) original kernel, along one axis.

    Output pixel ``b*a + p`` reads input pixel ``b*(a + m) + q`` through original tap
    ``b*m + q - p + r`` (``r = kernel_size // 2``), block offsets ``m in [-M, M]``,
    ``M = ceil(r / b)``. Taps outside ``[0, kernel_size)`` read zero padding.

    Returns:
        int ``(2M+1, b, b)`` array ``[m + M, q, p]`` of indices into the kernel padded by
        ``pad = b*M + b - 1 - r`` on both sides.
    """
    r = kernel_size // 2
    m_max = math.ceil(r / block)
    pad = block * m_max + block - 1 - r
    m, q, p = np.meshgrid(np.arange(-m_max, m_max + 1), np.arange(block), np.arange(block),
                          indexing="ij")
    return block * m + q - p + r + pad


# How FastConv2D and BlockConv2D compute their convolution, their ``conv_mode``:
# fast: the CPU-fast paths below (training); stock: as Keras's own Conv2D, TensorFlow's
# stock kernels, the baseline ``python -m benchmarks.bench`` measures these layers against;
# export: an inference graph of built-in ops only (srgan.inference.export): BlockConv2D
# takes its block kernel as a constant, rearranged once from the weights it holds when
# traced (TFLite lacks the 8-D transpose that rebuilds it), and neither layer wraps its
# convolution in a custom gradient (a SavedModel cannot hold one).
CONV_MODES = ("fast", "stock", "export")


def _checked_conv_mode(conv_mode: str) -> str:
    if conv_mode not in CONV_MODES:
        raise ValueError(f"conv_mode must be one of {CONV_MODES}, got {conv_mode!r}")
    return conv_mode


def _same_conv_with_fast_input_grad(x, kernel):
    """Stride-1 ``same`` conv whose input gradient is computed as a forward conv.

    For a stride-1 ``same`` conv with an odd kernel, the gradient with respect to the
    input is the same conv applied to the output gradient with the kernel rotated 180
    degrees and its channel axes swapped. TensorFlow's CPU ``Conv2DBackpropInput`` runs
    1.2-2.5x slower than its forward conv at the generator's and VGG's shapes (26 vs 61
    GFLOP/s at 256x256x64 on 2 cores), so the backward pass uses the forward kernel. The
    kernel gradient stays ``Conv2DBackpropFilter``. Unused gradients (the frozen VGG's
    kernel, the generator's input) are pruned from the graph as usual.
    """

    @tf.custom_gradient
    def conv(x, kernel):
        def grad(dy):
            flipped = tf.transpose(tf.reverse(kernel, [0, 1]), [0, 1, 3, 2])
            dx = tf.nn.conv2d(dy, flipped, 1, "SAME")
            dkernel = tf.raw_ops.Conv2DBackpropFilter(
                input=x, filter_sizes=tf.shape(kernel), out_backprop=dy,
                strides=[1, 1, 1, 1], padding="SAME")
            return dx, dkernel

        return tf.nn.conv2d(x, kernel, 1, "SAME"), grad

    return conv(x, tf.cast(kernel, x.dtype))


@keras.saving.register_keras_serializable(package="srgan")
class FastConv2D(layers.Conv2D):
    """``Conv2D`` whose stride-1 ``same`` case has a faster backward pass on CPU.

    Same weights and outputs as ``Conv2D``; gradients equal to float rounding. Other
    strides, paddings or dilations, and other Keras backends (JAX), run as a plain
    ``Conv2D``.

    Args:
        *args, **kwargs: as ``Conv2D``.
        conv_mode: one of :data:`CONV_MODES`; ``stock`` and ``export`` run a plain
            ``Conv2D``.
    """

    def __init__(self, *args, conv_mode: str = "fast", **kwargs):
        super().__init__(*args, **kwargs)
        self.conv_mode = _checked_conv_mode(conv_mode)

    def convolution_op(self, inputs, kernel):
        if (self.conv_mode == "fast" and keras.backend.backend() == "tensorflow"
                and self.strides == (1, 1)
                and self.dilation_rate == (1, 1) and self.groups == 1 and self.padding == "same"
                and self.kernel_size[0] % 2 and self.kernel_size[1] % 2
                and self.data_format == "channels_last"):
            return _same_conv_with_fast_input_grad(inputs, kernel)
        return super().convolution_op(inputs, kernel)

    def get_config(self):
        return {**super().get_config(), "conv_mode": self.conv_mode}


def with_fast_convs(model: keras.Model) -> keras.Model:
    """A copy of functional ``model`` with every ``Conv2D`` a :class:`FastConv2D`.

    Same layer names, weights and outputs; for models built elsewhere (Keras's VGG19).
    """

    def clone(layer):
        if type(layer) is layers.Conv2D:
            return FastConv2D.from_config(layer.get_config())
        return layer.__class__.from_config(layer.get_config())

    copy = keras.models.clone_model(model, clone_function=clone)
    copy.set_weights(model.get_weights())
    return copy


@keras.saving.register_keras_serializable(package="srgan")
class BlockConv2D(layers.Conv2D):
    """Stride-1 ``same`` Conv2D run as a conv on ``block x block`` space-to-depth blocks.

    Same weights, inputs and outputs as ``Conv2D(filters, kernel_size, padding="same")``:
    ``(B, H, W, C) -> (B, H, W, filters)``. Input height and width must be multiples of
    ``block`` (the generator's tail runs at ``scale`` times the LR size, so they are).

    Args:
        filters: output channels.
        kernel_size: odd square kernel side.
        block: block side ``b``; 1 runs a plain convolution.
        conv_mode: one of :data:`CONV_MODES`; ``stock`` runs a plain convolution,
            ``export`` the block convolution with a constant block kernel.
        **kwargs: passed on to ``Conv2D`` (``activation``, ``dtype``, ``name``, ...).
    """

    def __init__(self, filters: int, kernel_size: int, block: int = 1,
                 conv_mode: str = "fast", **kwargs):
        kwargs.pop("padding", None)
        super().__init__(filters, kernel_size, padding="same", **kwargs)
        if self.kernel_size[0] != self.kernel_size[1] or self.kernel_size[0] % 2 == 0:
            raise ValueError(f"BlockConv2D needs an odd square kernel, got {self.kernel_size}")
        if self.strides != (1, 1) or self.dilation_rate != (1, 1) or self.groups != 1:
            raise ValueError("BlockConv2D supports stride 1, dilation 1 and groups 1 only")
        if block < 1:
            raise ValueError(f"block must be >= 1, got {block}")
        self.block = block
        self.conv_mode = _checked_conv_mode(conv_mode)

    def block_kernel(self, kernel):
        """``(k, k, C, F)`` kernel -> ``(2M+1, 2M+1, b*b*C, b*b*F)`` block kernel."""
        b, k = self.block, self.kernel_size[0]
        index = block_tap_index(k, b)
        taps, cin, cout = index.shape[0], kernel.shape[2], kernel.shape[3]
        pad = (int(index.max()) + 1 - k) // 2
        padded = ops.pad(kernel, [(pad, pad), (pad, pad), (0, 0), (0, 0)])
        rows = ops.take(padded, index, axis=0)   # (m, q, p, kx, C, F)
        full = ops.take(rows, index, axis=3)     # (m, q, p, n, r, s, C, F)
        full = ops.transpose(full, (0, 3, 1, 4, 6, 2, 5, 7))  # (m, n, q, r, C, p, s, F)
        return ops.reshape(full, (taps, taps, b * b * cin, b * b * cout))

    def convolution_op(self, inputs, kernel):
        if self.block == 1 or self.conv_mode == "stock":
            return super().convolution_op(inputs, kernel)
        blocks = ops.space_to_depth(inputs, self.block)
        if self.conv_mode == "export":
            with tf.init_scope():  # eager, even while a tf.function is being traced
                value = self.block_kernel(ops.convert_to_tensor(self.kernel)).numpy()
            out = tf.nn.conv2d(blocks, tf.constant(value, blocks.dtype), 1, "SAME")
        else:
            out = _same_conv_with_fast_input_grad(blocks, self.block_kernel(kernel))
        return ops.depth_to_space(out, self.block)

    def get_config(self):
        config = super().get_config()
        config.pop("padding", None)
        return {**config, "block": self.block, "conv_mode": self.conv_mode}


def with_conv_mode(model: keras.Model, conv_mode: str) -> keras.Model:
    """A copy of functional ``model`` whose :class:`FastConv2D` and :class:`BlockConv2D`
    layers (in nested models and wrappers such as ``SpectralNormalization`` too) run in
    ``conv_mode`` (:data:`CONV_MODES`); same layer names, weights and outputs.
    """
    _checked_conv_mode(conv_mode)
    ours = (FastConv2D, BlockConv2D)

    def clone(layer):
        config = layer.get_config()
        if isinstance(layer, ours):
            config = {**config, "conv_mode": conv_mode}
        elif isinstance(layer, layers.Wrapper) and isinstance(layer.layer, ours):
            inner = config["layer"]
            config = {**config, "layer": {**inner, "config": {**inner["config"],
                                                              "conv_mode": conv_mode}}}
        return layer.__class__.from_config(config)

    copy = keras.models.clone_model(model, clone_function=clone, recursive=True)
    copy.set_weights(model.get_weights())
    copy.trainable = model.trainable
    return copy


def conv_layer(fast: bool):
    """The 3x3/9x9 conv layer class: :class:`FastConv2D` (same weights and outputs, faster
    on CPU) or Keras's own ``Conv2D``."""
    return FastConv2D if fast else layers.Conv2D


@keras.saving.register_keras_serializable(package="srgan")
class PixelShuffle(layers.Layer):
    """Sub-pixel rearrangement: ``(B, h, w, C*r*r) -> (B, h*r, w*r, C)`` (Shi et al. 2016)."""

    def __init__(self, factor: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return keras.ops.depth_to_space(x, self.factor)

    def compute_output_shape(self, shape):
        b, h, w, c = shape
        r = self.factor
        return (b, None if h is None else h * r, None if w is None else w * r, c // (r * r))

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@keras.saving.register_keras_serializable(package="srgan")
class BilinearUpsample(layers.Layer):
    """``(B, h, w, C) -> (B, h*s, w*s, C)`` by bilinear interpolation (half-pixel centres,
    no antialiasing: it only ever enlarges). Unlike ``UpSampling2D`` it accepts inputs of
    unknown height and width inside a ``tf.function``; it has no weights. Under another
    Keras backend (JAX, whose shapes are static) it uses ``keras.ops.image.resize``, the
    same interpolation (JAX's differed from TensorFlow's by 2e-7 on a 48 -> 192 test)."""

    method = "bilinear"

    def __init__(self, scale: int = 4, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def call(self, x):
        if keras.backend.backend() != "tensorflow":
            size = (x.shape[1] * self.scale, x.shape[2] * self.scale)
            return ops.cast(ops.image.resize(x, size, interpolation=self.method),
                            self.compute_dtype)
        size = tf.shape(x)[1:3] * self.scale
        return tf.cast(tf.image.resize(x, size, method=self.method), self.compute_dtype)

    def compute_output_shape(self, shape):
        b, h, w, c = shape
        s = self.scale
        return (b, None if h is None else h * s, None if w is None else w * s, c)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


@keras.saving.register_keras_serializable(package="srgan")
class BicubicUpsample(BilinearUpsample):
    """As :class:`BilinearUpsample` with Keys' bicubic (a = -0.5), the interpolation the
    baselines use (:func:`srgan.inference.upscale.interpolate`), before rounding."""

    method = "bicubic"
