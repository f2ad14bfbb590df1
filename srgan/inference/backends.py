"""Runners: a generator behind one call, uint8 ``(B, h, w, 3) -> (B, h*s, w*s, 3)``.

* :class:`KerasRunner`: the Keras generator in one ``tf.function`` (optionally XLA-compiled);
  any tile size.
* :class:`TFLiteRunner`: a model exported by :mod:`srgan.inference.export`, run by the
  TFLite interpreter with XNNPACK; its input has a fixed ``window``, and smaller inputs are
  padded by edge replication and the padding cropped off again.
* :class:`OnnxRunner`: a model exported to ONNX by :mod:`srgan.inference.export`, run by
  ONNX Runtime's CPU provider; any tile size.
* Anything else that is a :class:`Runner` (ZSSR's upscaler, :mod:`srgan.inference.zssr`,
  which trains on each whole image).
* :class:`FlipEnsemble`: any of these run twice, on the image and on its mirror image, and
  the two results averaged (``--self-ensemble``).

:func:`srgan.inference.upscale.upscale` takes any runner, or a Keras generator (it then builds a
``KerasRunner`` once and keeps it on the generator).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Optional, Protocol, Union, runtime_checkable

import numpy as np
import tensorflow as tf

from srgan.inference import tiling
from srgan.options import BACKENDS
from srgan.pixels import to_uint8, to_unit_range


@runtime_checkable
class Runner(Protocol):
    """uint8 ``(B, h, w, 3) -> (B, h*s, w*s, 3)``. ``window``: the fixed input side, or None
    for any size; ``bytes_per_pixel``: memory per LR pixel that auto-tiling budgets for (0:
    never tile)."""

    window: Optional[int]
    bytes_per_pixel: float

    def __call__(self, batch: np.ndarray) -> np.ndarray: ...


class KerasRunner:
    """A Keras generator as uint8 ``(B, h, w, 3) -> (B, h*s, w*s, 3)``, in one graph.

    Scaling to [-1, 1] and quantising back run inside the ``tf.function`` so only uint8
    crosses between host and device. The signature leaves batch and spatial sizes open, so
    the graph is traced once and serves interior and edge tiles alike (with ``jit``, XLA
    still compiles once per shape). Weights are read at run time, so a runner stays right
    while its generator trains.
    """

    window: Optional[int] = None

    def __init__(self, generator, jit: bool = False):
        self.bytes_per_pixel = tiling.activation_bytes(generator)

        @tf.function(input_signature=[tf.TensorSpec((None, None, None, 3), tf.uint8)],
                     jit_compile=jit)
        def run(lr_uint8):
            return to_uint8(generator(to_unit_range(lr_uint8), training=False))

        self._run = run

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return self._run(tf.constant(batch)).numpy()


def keras_runner(generator, jit: bool = False) -> KerasRunner:
    """``KerasRunner(generator, jit)``, built once per generator and kept on it.

    Tracing costs more than running a 64x64 image (about 1.5 s against 0.4 s for the
    paper's generator on 2 CPU cores), so later calls with the same generator reuse it.
    """
    key = f"_srgan_runner_{'xla' if jit else 'graph'}"
    run = getattr(generator, key, None)
    if run is None:
        run = KerasRunner(generator, jit)
        try:
            setattr(generator, key, run)
        except (AttributeError, TypeError):  # an object that takes no attributes
            pass
    return run


class TFLiteRunner:
    """A TFLite model from :func:`srgan.inference.export.to_tflite`, run with XNNPACK.

    Args:
        model: the ``.tflite`` file or its bytes; uint8 ``(1, T, T, 3) -> (1, T*s, T*s, 3)``.
        num_threads: interpreter threads (default: every CPU core).

    Attributes:
        window: ``T``, the LR side every call is run at.
        scale: the upscaling factor read from the model's shapes.
    """

    bytes_per_pixel: float = 0  # its fixed window sets the tile, not the memory budget

    def __init__(self, model: Union[bytes, str, Path], num_threads: Optional[int] = None):
        source = ({"model_content": model} if isinstance(model, bytes)
                  else {"model_path": str(model)})
        with warnings.catch_warnings():  # tf.lite.Interpreter's notice about LiteRT
            warnings.simplefilter("ignore")
            self._interpreter = tf.lite.Interpreter(
                **source, num_threads=num_threads or os.cpu_count())
        self._interpreter.allocate_tensors()
        (inp,), (out,) = (self._interpreter.get_input_details(),
                          self._interpreter.get_output_details())
        if inp["dtype"] != np.uint8 or len(inp["shape"]) != 4 or inp["shape"][1] != inp["shape"][2]:
            raise ValueError(f"{model if not isinstance(model, bytes) else 'TFLite model'}: "
                             f"not an exported generator (input {inp['shape']} {inp['dtype']})")
        self._input, self._output = inp["index"], out["index"]
        self.window = int(inp["shape"][1])
        self.scale = int(out["shape"][1]) // self.window

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        """uint8 ``(B, h, w, 3)`` with ``h, w <= window`` -> ``(B, h*s, w*s, 3)``."""
        _, h, w, _ = batch.shape
        t, s = self.window, self.scale
        if h > t or w > t:
            raise ValueError(f"tile {h}x{w} is larger than the TFLite model's {t}x{t} input")
        padded = np.pad(batch, ((0, 0), (0, t - h), (0, t - w), (0, 0)), mode="edge")
        outs = []
        for image in padded:
            self._interpreter.set_tensor(self._input, image[None])
            self._interpreter.invoke()
            outs.append(self._interpreter.get_tensor(self._output)[0, :h * s, :w * s])
        return np.stack(outs)


class OnnxRunner:
    """An ONNX model from :func:`srgan.inference.export.to_onnx`, run by ONNX Runtime on CPU.

    Args:
        model: the ``.onnx`` bytes; uint8 ``lr (B, h, w, 3) -> (B, h*s, w*s, 3)``, any size.
        bytes_per_pixel: activation bytes per LR pixel, for the memory-bound tile size
            (:func:`srgan.inference.tiling.activation_bytes` of the Keras generator).
        num_threads: intra-op threads (default: every CPU core).
    """

    window: Optional[int] = None

    def __init__(self, model: bytes, bytes_per_pixel: float, num_threads: Optional[int] = None):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = num_threads or os.cpu_count()
        # Idle workers sleep instead of spinning, so they leave the cores to the rest of
        # the program (decoding, encoding, TensorFlow) between calls.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(model, options,
                                             providers=["CPUExecutionProvider"])
        self.bytes_per_pixel = bytes_per_pixel

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return self._session.run(None, {"lr": batch})[0]


class FlipEnsemble:
    """Self-ensemble over the left-right flip: the mean of ``run(lr)`` and of the
    mirrored ``run(mirrored lr)``, rounded back to uint8.

    The "+" of EDSR (Lim et al., 2017) averages the 8 flips and quarter turns. The face
    models here were trained with left-right flips only, and a face turned sideways is
    far from anything they saw: on the 14 validation faces, the shipped SRResNet gains
    0.08 dB PSNR-Y from the flip alone (0.09 for its stage 7, which gained less with all
    8; docs/model_zoo.md). It costs
    twice the time. A GAN's two outputs disagree in their invented texture, so their
    average is a little smoother: for the GAN models it trades LPIPS for PSNR.

    Args:
        run: the runner to ensemble; its ``window`` and ``bytes_per_pixel`` are kept.
    """

    def __init__(self, run: Runner):
        self._run = run
        self.window = run.window
        self.bytes_per_pixel = run.bytes_per_pixel

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        """uint8 ``(B, h, w, 3) -> (B, h*s, w*s, 3)``."""
        ahead = self._run(batch).astype(np.float32)
        mirrored = self._run(np.ascontiguousarray(batch[:, :, ::-1]))[:, :, ::-1]
        return np.round((ahead + mirrored) / 2).astype(np.uint8)


def as_runner(generator) -> Runner:
    """``generator`` itself if it is a :class:`Runner`, else its cached
    :class:`KerasRunner`."""
    if isinstance(generator, Runner):
        return generator
    return keras_runner(generator)


def make_runner(generator, backend: str, window: int = 64,
                self_ensemble: bool = False) -> Runner:
    """The runner ``backend`` (one of :data:`srgan.options.BACKENDS`) names for ``generator``, a
    :class:`srgan.models.weights.Generator`. ONNX and TFLite are converted here; TFLite for
    LR tiles of ``window`` pixels, with float32 weights unless the name says otherwise. A
    generator whose model is already a :class:`Runner` (ZSSR) runs as it is. With
    ``self_ensemble``, the runner is wrapped in a :class:`FlipEnsemble`.

    Raises:
        ValueError: ``backend`` is not one of :data:`srgan.options.BACKENDS`.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    run = _backend_runner(generator, backend, window)
    return FlipEnsemble(run) if self_ensemble else run


def _backend_runner(generator, backend: str, window: int) -> Runner:
    """:func:`make_runner` without the ensemble."""
    if isinstance(generator.model, Runner):
        return generator.model
    if backend == "onnx":
        from srgan.inference.export import to_onnx

        return OnnxRunner(to_onnx(generator.model, generator.config),
                          tiling.activation_bytes(generator.model))
    if backend.startswith("tflite"):
        from srgan.inference.export import to_tflite

        precision = backend.partition("-")[2] or "float32"
        return TFLiteRunner(to_tflite(generator.model, generator.config, window, precision))
    return keras_runner(generator.model, jit=backend == "keras-xla")
