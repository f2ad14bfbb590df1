"""Using a trained generator: feathered tiled upscaling, runners (Keras, XLA, TFLite), export
(SavedModel, TFLite, ONNX), and what ``predict.py`` does with photos and videos."""
