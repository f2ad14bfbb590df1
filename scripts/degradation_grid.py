"""Write a 4x4 grid of 16 Real-ESRGAN degradations of one face: what a ``--degradation
realesrgan`` model trains on. Usage, from the repository root:
``python -m scripts.degradation_grid IMAGE -o grid.png [--seed N --hr-size N --scale N]``.
"""
import sys

from srgan.cli import degradation_grid_main

if __name__ == "__main__":
    sys.exit(degradation_grid_main())
