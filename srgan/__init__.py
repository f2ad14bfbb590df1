"""SRGAN face super-resolution in Keras 3 / TensorFlow (x4: 64x64 -> 256x256 by default).

    import srgan
    generator = srgan.load("srgan_x4_faces")   # a shipped model, by name, with its card
    sr = srgan.upscale(image, model=generator)  # uint8 (H, W, 3) -> (4H, 4W, 3)

:func:`load` and :func:`upscale` are in :mod:`srgan.api`; importing ``srgan`` does not
import TensorFlow, their first call does.

Subpackages:
    data        tf.data pipeline (decode, crop, degrade) and the resumable file order
    models      SRResNet generator, discriminator, fast conv layers, VGG, weight files
    training    the GAN keras.Model, losses, callbacks, checkpoints, the training run
    evaluation  PSNR/SSIM/LPIPS/NIQE, evaluate.py's reports and figures
    inference   tiled upscaling and what predict.py does

Modules: ``config`` (frozen dataclasses), ``cli`` (the commands), ``files`` (image
files, atomic writes), ``pixels`` ([-1, 1] <-> uint8), ``pretrained`` (shipped weights).
"""

from srgan.api import load, upscale

__all__ = ["load", "upscale"]
