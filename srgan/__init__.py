"""SRGAN face super-resolution in Keras 3 / TensorFlow (x4: 64x64 -> 256x256 by default).

Subpackages:
    data        tf.data pipeline (decode, crop, degrade) and the resumable file order
    models      SRResNet generator, discriminator, fast conv layers, VGG, weight files
    training    the GAN keras.Model, losses, callbacks, checkpoints, the training run
    evaluation  PSNR/SSIM/LPIPS/NIQE, evaluate.py's reports and figures
    inference   tiled upscaling and what predict.py does

Modules: ``config`` (frozen dataclasses), ``cli`` (the three commands), ``files`` (image
files, atomic writes), ``pixels`` ([-1, 1] <-> uint8), ``pretrained`` (shipped weights).
"""
