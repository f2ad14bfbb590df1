"""Benchmarks: speed and memory (``python -m benchmarks.bench``), faces in whole photos
(``python -m benchmarks.scenes``). Never imported by srgan."""
