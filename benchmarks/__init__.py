"""Speed and memory benchmarks: ``python -m benchmarks.bench``. Never imported by srgan."""
