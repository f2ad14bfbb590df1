"""A generator exported for use without this code: TensorFlow SavedModel, TFLite or ONNX.

Both take and return uint8 RGB: ``lr (B, h, w, 3) -> sr (B, h*s, w*s, 3)``, with the
scaling to [-1, 1] and the rounding back inside the model, so that the exported file does
what :func:`srgan.inference.upscale.upscale` does to each tile.

* SavedModel: any batch, height and width (signature ``serving_default``, input ``lr``).
* ONNX (opset 17, converted by tf2onnx): any batch, height and width, input ``lr``.
* TFLite: a fixed ``(1, window, window, 3)`` input, as the interpreter plans its memory
  for one shape; ``predict.py --backend tflite`` tiles images to it. ``float32``;
  ``float16`` (weights stored as float16, half the file); ``int8`` (dynamic-range
  quantisation: int8 weights, float activations, a quarter of the file).

Every format holds built-in ops only (convolutions, depth-to-space, PReLU, ...), so any
runtime runs it; SRCNN's bicubic resize has no TFLite op, so SRCNN exports as SavedModel
or ONNX only. The 9x9 tail convolution to 3 channels is exported as
:class:`srgan.models.layers.BlockConv2D` computes it, a 3x3 conv on 4x4 space-to-depth
blocks with its block kernel frozen to a constant: the same function, and 1.4x faster
inference in TFLite (XNNPACK) and ONNX Runtime, whose kernels handle 3 output channels
as badly as TensorFlow's.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
from pathlib import Path

import tensorflow as tf
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

from srgan.config import ModelConfig
from srgan.models.generators import build_generator, copy_weights
from srgan.models.layers import with_conv_mode
from srgan.options import PRECISIONS, ExportOptions
from srgan.pixels import to_uint8, to_unit_range


def _uint8_model(model, config: ModelConfig) -> tf.types.experimental.PolymorphicFunction:
    """A copy of ``model`` as a ``tf.function`` uint8 -> uint8, built with ``conv_mode``
    ``export`` (:data:`srgan.models.layers.CONV_MODES`): built-in ops only, its block
    convolutions' kernels frozen when it is traced."""
    copy = build_generator(config)
    copy_weights(model, copy)
    copy = with_conv_mode(copy, "export")

    @tf.function
    def run(lr):
        return to_uint8(copy(to_unit_range(lr), training=False))

    return run


def uint8_function(model, config: ModelConfig, shape) -> tf.types.experimental.ConcreteFunction:
    """A copy of ``model`` (:func:`_uint8_model`) as a concrete function uint8 ``shape`` -> uint8,
    its weights frozen into constants (a TFLite converter would otherwise keep them as
    resource variables that the interpreter starts at zero).

    Args:
        model: a generator built by :func:`srgan.models.generators.build_generator`.
        config: its architecture.
        shape: ``(B, h, w, 3)`` input shape; ``None`` entries stay dynamic.
    """
    run = _uint8_model(model, config)  # holds the copy, whose variables the graph reads
    return convert_variables_to_constants_v2(run.get_concrete_function(
        tf.TensorSpec(shape, tf.uint8, name="lr")))


def to_onnx(model, config: ModelConfig) -> bytes:
    """ONNX (opset 17, through tf2onnx) of ``model``: uint8 ``lr (B, h, w, 3)`` -> uint8
    ``(B, h*s, w*s, 3)``, any batch and size."""
    import tf2onnx

    spec = [tf.TensorSpec((None, None, None, 3), tf.uint8, name="lr")]
    proto, _ = tf2onnx.convert.from_function(_uint8_model(model, config),
                                             input_signature=spec, opset=17)
    return proto.SerializeToString()


def to_tflite(model, config: ModelConfig, window: int = 64,
              precision: str = "float32") -> bytes:
    """TFLite flatbuffer of ``model``: uint8 ``(1, window, window, 3)`` -> uint8
    ``(1, window*s, window*s, 3)``; weights in ``precision`` (:data:`PRECISIONS`)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [uint8_function(model, config, (1, window, window, 3))])
    if precision != "float32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if precision == "float16":
        converter.target_spec.supported_types = [tf.float16]
    try:
        return converter.convert()
    except Exception as e:  # tf.lite's ConverterError, which TensorFlow does not export
        missing = sorted(set(re.findall(r"'tf\.(\w+)' op is neither a custom op", str(e))))
        if not missing:
            raise
        raise ValueError(f"the {config.generator} generator needs {', '.join(missing)}, which "
                         f"TFLite does not have; export it as savedmodel or onnx") from None


@contextlib.contextmanager
def _atomic_dir(path: Path):
    """Yields a temp folder beside ``path`` that replaces ``path`` if the block succeeds."""
    tmp = path.with_name(f".{path.name}.tmp-{secrets.token_hex(4)}")
    try:
        yield tmp
        old = path.with_name(f".{path.name}.old-{secrets.token_hex(4)}")
        if path.exists():
            os.replace(path, old)
        os.replace(tmp, path)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def save_savedmodel(model, config: ModelConfig, path: Path) -> Path:
    """Write ``model`` as a SavedModel folder at ``path`` (replaced atomically): signature
    ``serving_default``, uint8 ``lr (B, h, w, 3)`` -> uint8 ``sr (B, h*s, w*s, 3)``."""
    path = Path(path)
    module = tf.Module()
    module.serve = uint8_function(model, config, (None, None, None, 3))
    with _atomic_dir(path) as tmp:
        tf.saved_model.save(module, str(tmp), signatures={"serving_default": module.serve})
    return path


def export(generator, name: str, options: ExportOptions) -> Path:
    """Write ``generator`` (a :class:`srgan.models.weights.Generator`) as ``options`` say,
    into ``options.output``; returns the path written."""
    from srgan import files

    out_dir = files.check_writable_dir(Path(options.output))
    if options.format == "savedmodel":
        return save_savedmodel(generator.model, generator.config,
                               files.safe_output_path(out_dir, name))
    if options.format == "onnx":
        return files.atomic_write_bytes(files.safe_output_path(out_dir, f"{name}.onnx"),
                                        to_onnx(generator.model, generator.config))
    data = to_tflite(generator.model, generator.config, options.window, options.precision)
    target = files.safe_output_path(out_dir, f"{name}_{options.precision}_{options.window}.tflite")
    return files.atomic_write_bytes(target, data)
