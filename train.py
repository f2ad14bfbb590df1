"""Entry point; see `python train.py --help` and README.md."""
import sys

from srgan.cli import train_main

if __name__ == "__main__":
    sys.exit(train_main())
