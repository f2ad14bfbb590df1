"""SRGAN for faces in Keras 3 / TensorFlow: 64x64 -> 256x256 (x4) super-resolution.

Modules (one responsibility each):
    config      frozen dataclasses built from the CLI, saved as config.json
    files       image listing, safe decoding, atomic writes
    data        tf.data pipeline: decode, crop, resize, LR degradation, augment
    models      build_generator / build_discriminator
    backbones   frozen ImageNet VGG feature extractors (VGG19, offline VGG16)
    losses      perceptual content loss, adversarial BCE
    metrics     PSNR / SSIM / LPIPS
    trainer     class SRGAN(keras.Model): compile, train_step, metrics
    callbacks   triptychs, TensorBoard images, checkpoints
    inference   upscale(generator, image, tile=...)
    cli         train_main / predict_main
"""
