"""Using a trained generator: tiled upscaling of one image, and what ``predict.py`` does."""
