"""Entry point; see `python predict.py --help` and README.md."""
import sys

from srgan.cli import predict_main

if __name__ == "__main__":
    sys.exit(predict_main())
